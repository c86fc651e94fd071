//! PostgreSQL: the connection (URL, `PGPASSWORD`, `~/.pgpass`), the
//! versioned schema, and error messages that never hold the password.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StorageError;

/// The version of the schema this hpsearch writes (`hpsearch_schema`).
pub const SCHEMA_VERSION: i32 = 1;

/// Where the database is: the parsed URL, with the password resolved.
#[derive(Clone)]
pub struct Target {
    config: Config,
    /// The URL with its password replaced by `***`: the only form printed.
    pub shown: String,
    /// The password, kept only to scrub it from messages.
    secret: Option<String>,
    /// TLS, unless `sslmode=disable` or the host is a Unix socket.
    tls: Option<MakeRustlsConnect>,
    /// The name the search is stored under (`--name`); `None`: the search
    /// file's stem.
    pub name: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// `url` with any password (in the user part or a `password=` parameter)
/// replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let rest = &out[start..];
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                out = format!("{}{}:***{}", &out[..start], &rest[..colon], &rest[at..]);
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let parts: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k == "password" => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{head}{}", parts.join("&"));
    }
    out
}

/// libpq's `sslmode`: whether TLS is tried, required, and what is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Plain only.
    Disable,
    /// TLS when the server offers it, else plain; nothing checked. libpq's
    /// `allow` (plain first) is read as `prefer`.
    Prefer,
    /// TLS or fail; the certificate is checked as `verify-ca` when a root
    /// file is named or `~/.postgresql/root.crt` exists (as libpq does).
    Require,
    /// TLS, the certificate chain checked against the roots.
    VerifyCa,
    /// TLS, the chain and the host name checked.
    VerifyFull,
}

impl SslMode {
    fn parse(mode: &str, shown: &str) -> Result<SslMode, StorageError> {
        Ok(match mode {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(StorageError::Input(format!(
                    "--storage {shown}: sslmode={mode} is not a TLS mode; write one of disable, \
                     allow, prefer, require, verify-ca, verify-full"
                )))
            }
        })
    }
}

impl Target {
    /// Parse a `postgresql://` URL, with libpq's `sslmode` (default
    /// `prefer`; also `PGSSLMODE`) and `sslrootcert` (also
    /// `PGSSLROOTCERT`; default `~/.postgresql/root.crt` where it exists).
    pub fn parse(url: &str) -> Result<Target, StorageError> {
        let shown = redact(url);
        if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
            return Err(StorageError::Input(format!(
                "--storage {shown}: not a PostgreSQL URL; write postgresql://user@host:port/database"
            )));
        }
        let param = |key: &str| -> Option<String> {
            url.split_once('?')
                .into_iter()
                .flat_map(|(_, q)| q.split('&'))
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        };
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let mode = match param("sslmode").or_else(|| env("PGSSLMODE")) {
            Some(m) => SslMode::parse(&m, &shown)?,
            None => SslMode::Prefer,
        };
        let rootcert = param("sslrootcert").or_else(|| env("PGSSLROOTCERT"));
        // rust-postgres reads neither parameter as libpq does: they are
        // taken out of the URL here and applied by `tls_config`.
        let plain: String = match url.split_once('?') {
            Some((base, q)) => {
                let kept: Vec<&str> = q
                    .split('&')
                    .filter(|kv| !kv.starts_with("sslmode=") && !kv.starts_with("sslrootcert="))
                    .collect();
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        };
        let mut config = Config::from_str(&plain).map_err(|e| {
            StorageError::Input(format!(
                "--storage {shown}: cannot read the URL ({}); write postgresql://user@host:port/database",
                scrub(&e.to_string(), None)
            ))
        })?;
        if config.get_user().is_none() {
            match std::env::var("PGUSER")
                .ok()
                .or_else(|| std::env::var("USER").ok())
                .filter(|u| !u.is_empty())
            {
                Some(u) => {
                    config.user(&u);
                }
                None => {
                    return Err(StorageError::Input(format!(
                        "--storage {shown}: no user; write postgresql://user@host/database"
                    )))
                }
            }
        }
        if config.get_dbname().is_none() {
            let user = config.get_user().unwrap_or_default().to_string();
            config.dbname(&user);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_password().is_none() {
            if let Some(p) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
                config.password(p);
            } else if let Some(p) = pgpass_lookup(&config) {
                config.password(p);
            }
        }
        let secret = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        config.application_name("hpsearch");
        // TLS is never used on a Unix socket (libpq ignores sslmode there).
        let tcp = config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(_)));
        let tls = if mode == SslMode::Disable || !tcp {
            config.ssl_mode(postgres::config::SslMode::Disable);
            None
        } else {
            config.ssl_mode(if mode == SslMode::Prefer {
                postgres::config::SslMode::Prefer
            } else {
                postgres::config::SslMode::Require
            });
            Some(tls_config(mode, rootcert.as_deref(), &shown)?)
        };
        Ok(Target {
            config,
            shown,
            secret,
            tls,
            name: None,
        })
    }

    /// Store the search under `name` instead of its file's stem, so that
    /// two searches whose files share a stem can share a database.
    pub fn named(mut self, name: Option<String>) -> Result<Target, StorageError> {
        if let Some(n) = &name {
            if n.trim().is_empty() || n.chars().any(char::is_control) {
                return Err(StorageError::Input(format!(
                    "--name {n:?}: give a non-empty name without control characters"
                )));
            }
        }
        self.name = name;
        Ok(self)
    }

    /// A message with the password (if any) replaced by `***`, on one line.
    pub fn scrub(&self, message: &str) -> String {
        scrub(message, self.secret.as_deref())
    }

    /// Connect once.
    pub fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }

    /// Connect, or say in one line why not (exit 2: nothing was done).
    pub fn connect_or_refuse(&self) -> Result<Client, StorageError> {
        self.connect().map_err(|e| {
            StorageError::Input(format!(
                "--storage {}: cannot connect: {}",
                self.shown,
                self.scrub(&cause(&e))
            ))
        })
    }
}

/// The rustls client for `mode`: which roots (the `sslrootcert` file,
/// `~/.postgresql/root.crt`, else the Mozilla roots of webpki-roots; libpq
/// would refuse there) and which checks.
fn tls_config(
    mode: SslMode,
    rootcert: Option<&str>,
    shown: &str,
) -> Result<MakeRustlsConnect, StorageError> {
    // ring, not aws-lc-rs: it builds with a C compiler alone. Deprecated
    // in rustls 0.23.48 only for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let default_root = std::env::var_os("HOME")
        .map(|h| Path::new(&h).join(".postgresql").join("root.crt"))
        .filter(|p| p.is_file());
    let root_file: Option<PathBuf> = match rootcert {
        Some("system") => None,
        Some(p) => Some(PathBuf::from(p)),
        None => default_root,
    };
    // libpq: `require` with a root file behaves as `verify-ca`.
    let mode = match (mode, &root_file) {
        (SslMode::Require, Some(_)) => SslMode::VerifyCa,
        (m, _) => m,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StorageError::Input(format!("--storage {shown}: TLS: {e}")))?;
    let config = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoCheck(provider)))
            .with_no_client_auth(),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let mut roots = rustls::RootCertStore::empty();
            match &root_file {
                Some(path) => {
                    let bad = |e: &dyn std::fmt::Display| {
                        StorageError::Input(format!(
                            "--storage {shown}: sslrootcert {}: {e}; name a PEM file of the \
                             certificates that signed the server's",
                            path.display()
                        ))
                    };
                    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))?;
                    for cert in certs {
                        let cert = cert.map_err(|e| bad(&e))?;
                        roots.add(cert).map_err(|e| bad(&e))?;
                    }
                    if roots.is_empty() {
                        return Err(bad(&"no certificate in the file"));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| StorageError::Input(format!("--storage {shown}: TLS: {e}")))?;
            let builder = builder.dangerous();
            if mode == SslMode::VerifyFull {
                builder.with_custom_certificate_verifier(verifier)
            } else {
                builder.with_custom_certificate_verifier(Arc::new(NoHostCheck(verifier)))
            }
            .with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// `sslmode=prefer` and `require` without roots: TLS against eavesdropping
/// only, the certificate not checked (as libpq). The handshake's signatures
/// are still verified.
#[derive(Debug)]
struct NoCheck(Arc<CryptoProvider>);

impl ServerCertVerifier for NoCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain checked, the host name not.
#[derive(Debug)]
struct NoHostCheck(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for NoHostCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The chain is checked before the name: a name error means the
        // chain was good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `message` on one line, with `secret` replaced by `***`.
pub fn scrub(message: &str, secret: Option<&str>) -> String {
    let one: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    match secret {
        Some(s) if !s.is_empty() => one.replace(s, "***"),
        _ => one,
    }
}

/// What went wrong, in words: the server's message when it sent one.
pub fn cause(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s = format!("{s}: {text}");
        }
        source = inner.source();
    }
    s
}

/// Whether `e` means the connection is gone (worth reconnecting), rather
/// than a statement the server refused.
pub fn is_connection_loss(e: &postgres::Error, client: &Client) -> bool {
    if client.is_closed() || e.is_closed() {
        return true;
    }
    match e.as_db_error() {
        None => true,
        // 08: connection exception; 57P: operator intervention (a
        // shutdown or restart); 53300: too many connections.
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }
    }
}

/// The password `~/.pgpass` (or `PGPASSFILE`) gives for this connection,
/// as libpq finds it: the first `host:port:database:user:password` line
/// that matches, `*` matching anything, `\` escaping `:` and `\`. A file
/// that others may read is ignored with a warning, as libpq does.
fn pgpass_lookup(config: &Config) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pgpass")))?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        // libpq matches a Unix socket as `localhost`.
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let db = config.get_dbname().unwrap_or_default();
    let user = config.get_user().unwrap_or_default();
    pgpass_find(&path, &host, &port, db, user)
}

/// See `pgpass_lookup`.
pub fn pgpass_find(path: &Path, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        eprintln!(
            "warning: password file {} has group or world access (mode {:o}); it is ignored, \
             as libpq does: chmod 0600 it",
            path.display(),
            mode & 0o777
        );
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(pgpass_fields)
        .find(|f| {
            f.len() == 5
                && [host, port, db, user]
                    .iter()
                    .zip(f.iter())
                    .all(|(want, got)| got == "*" || got == want)
        })
        .map(|mut f| f.swap_remove(4))
}

/// The fields of one `.pgpass` line (`\` escapes the next character).
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// The schema, created in one transaction under an advisory lock (so
/// workers starting together do not race), or checked when it exists.
pub fn ensure_schema(client: &mut Client, shown: &str) -> Result<(), StorageError> {
    let refuse = |e: postgres::Error| {
        StorageError::Input(format!(
            "--storage {shown}: cannot create or read hpsearch's tables: {}",
            cause(&e)
        ))
    };
    let mut tx = client.transaction().map_err(refuse)?;
    // "hpsearch" as a number: the lock every hpsearch takes to create the schema.
    tx.execute("SELECT pg_advisory_xact_lock(7526756393148023144)", &[])
        .map_err(refuse)?;
    tx.batch_execute(SCHEMA).map_err(refuse)?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM hpsearch_schema", &[])
        .and_then(|r| r.try_get(0))
        .map_err(refuse)?;
    match found {
        None => {
            tx.execute(
                "INSERT INTO hpsearch_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .map_err(refuse)?;
        }
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StorageError::Input(format!(
                "--storage {shown}: the database was written by a newer hpsearch (schema version \
                 {v}; this one knows {SCHEMA_VERSION}); upgrade hpsearch on this machine"
            )))
        }
        Some(_) => {}
    }
    tx.commit().map_err(refuse)
}

/// Version 1. See design.md, "Storage". The two partial indexes keep a
/// claim (the lowest open trial) and a read (committed trials from an
/// index on) as cheap at trial 20,000 as at trial 1.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hpsearch_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS hpsearch_search (
    id bigserial PRIMARY KEY,
    root_hash text NOT NULL UNIQUE,
    name text NOT NULL,
    hpsearch_version text NOT NULL,
    results_format integer NOT NULL,
    inputs text NOT NULL,
    search_text text NOT NULL,
    budget bigint NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS hpsearch_worker (
    id bigserial PRIMARY KEY,
    search bigint NOT NULL REFERENCES hpsearch_search (id),
    host text NOT NULL,
    pid bigint NOT NULL,
    threads integer NOT NULL,
    started timestamptz NOT NULL DEFAULT now(),
    heartbeat timestamptz NOT NULL DEFAULT now(),
    finished boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS hpsearch_trial (
    search bigint NOT NULL REFERENCES hpsearch_search (id),
    idx bigint NOT NULL,
    worker bigint,
    lease timestamptz,
    claims integer NOT NULL DEFAULT 0,
    done boolean NOT NULL DEFAULT false,
    params text,
    status text,
    value double precision,
    folds double precision[],
    extra text[],
    steps text,
    error text,
    seconds double precision,
    thread integer,
    committed_by bigint,
    committed timestamptz,
    PRIMARY KEY (search, idx)
);
CREATE INDEX IF NOT EXISTS hpsearch_trial_open ON hpsearch_trial (search, idx) WHERE NOT done;
CREATE INDEX IF NOT EXISTS hpsearch_trial_done ON hpsearch_trial (search, idx) WHERE done;
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_everywhere() {
        assert_eq!(
            redact("postgresql://hp:s3cr:et@db.example:5432/x"),
            "postgresql://hp:***@db.example:5432/x"
        );
        assert_eq!(
            redact("postgresql://hp@h/x?password=abc&sslmode=disable"),
            "postgresql://hp@h/x?password=***&sslmode=disable"
        );
        assert_eq!(redact("postgresql://h/x"), "postgresql://h/x");
    }

    #[test]
    fn pgpass_matches_like_libpq() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pgpass");
        std::fs::write(
            &p,
            "# comment\nother:5432:db:hp:no\n*:5432:db:hp:pa\\:ss\n*:*:*:*:any\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            pgpass_find(&p, "h", "5432", "db", "hp").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_find(&p, "h", "1", "db", "hp").as_deref(),
            Some("any")
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(pgpass_find(&p, "h", "5432", "db", "hp"), None);
    }

    #[test]
    fn tls_modes_are_read_like_libpq() {
        let e = Target::parse("postgresql://hp@h/x?sslmode=sometimes")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a TLS mode"), "{e}");
        for mode in ["disable", "allow", "prefer", "require", "verify-full"] {
            let t = Target::parse(&format!("postgresql://hp@h/x?sslmode={mode}")).unwrap();
            assert_eq!(t.tls.is_some(), mode != "disable", "{mode}");
        }
        // A Unix socket: never TLS.
        let t = Target::parse("postgresql://hp@%2Ftmp/x?sslmode=require").unwrap();
        assert!(t.tls.is_none());
        let e = Target::parse("postgresql://hp@h/x?sslmode=verify-ca&sslrootcert=/nonexistent")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sslrootcert /nonexistent"), "{e}");
        let e = Target::parse("mysql://hp@h/x").unwrap_err().to_string();
        assert!(e.contains("not a PostgreSQL URL"), "{e}");
    }
}
