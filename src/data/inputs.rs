//! Content hashes of a command objective's inputs (`[objective] inputs`):
//! files and folders whose bytes go into the root hash, so a changed script
//! or dataset is a different search.
//!
//! A file's hash is the SHA-256 of its bytes. A folder's is the SHA-256 of
//! one line per file below it, in byte order of the relative path (with
//! `/`): `<relative path> NUL <SHA-256 of the file> LF`. Empty folders add
//! nothing. Left out, because tools write them while a search runs and
//! they are not inputs: names starting with `.` (`.git`, editor files),
//! `__pycache__` folders, and hpsearch results folders (a folder holding
//! both `manifest.toml` and `trials.csv`). Symbolic links are followed.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::sha256_hex;

/// Folders deeper than this are refused (a symbolic-link loop, most likely).
const MAX_DEPTH: usize = 64;

/// The content hash of the file or folder at `path`.
pub fn hash_input(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(sha256_hex(&bytes));
    }
    if !meta.is_dir() {
        return Err(not_regular_message(path));
    }
    let mut lines = Vec::new();
    walk(path, "", 0, &mut lines)?;
    lines.sort();
    let mut h = Sha256::new();
    for (rel, hash) in &lines {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(hash.as_bytes());
        h.update([b'\n']);
    }
    Ok(crate::seed::hex(&h.finalize()))
}

fn not_regular_message(path: &Path) -> String {
    let what = super::not_regular(path)
        .ok()
        .flatten()
        .unwrap_or("a special file");
    format!(
        "{}: is {what}, neither a regular file nor a folder, so it has no content to hash; \
         move it out of the inputs",
        path.display()
    )
}

fn skipped(name: &str, path: &Path) -> bool {
    name.starts_with('.')
        || name == "__pycache__"
        || (path.join("manifest.toml").is_file() && path.join("trials.csv").is_file())
}

fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}: folders nested more than {MAX_DEPTH} deep (a symbolic-link loop?)",
            dir.display()
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if skipped(&name, &path) {
            continue;
        }
        let rel = format!("{prefix}{name}");
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(&path, &format!("{rel}/"), depth + 1, out)?;
        } else if meta.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.push((rel, sha256_hex(&bytes)));
        } else {
            // A FIFO or a device has no content to hash (and reading one
            // could block or never end).
            return Err(not_regular_message(&path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hashes_to_the_sha256_of_its_bytes() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.txt");
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(
            hash_input(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_folder_hash_follows_content_and_names_not_noise() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("src");
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(root.join("train.py"), b"print(1)").unwrap();
        std::fs::write(root.join("pkg/util.py"), b"x = 1").unwrap();
        let h0 = hash_input(&root).unwrap();
        // The documented encoding, computed by hand.
        let mut h = Sha256::new();
        for (rel, bytes) in [
            ("pkg/util.py", &b"x = 1"[..]),
            ("train.py", &b"print(1)"[..]),
        ] {
            h.update(rel.as_bytes());
            h.update([0]);
            h.update(sha256_hex(bytes).as_bytes());
            h.update([b'\n']);
        }
        assert_eq!(h0, crate::seed::hex(&h.finalize()));
        // Caches, hidden files and results folders do not count.
        std::fs::create_dir_all(root.join("__pycache__")).unwrap();
        std::fs::write(root.join("__pycache__/util.pyc"), b"junk").unwrap();
        std::fs::write(root.join(".swp"), b"junk").unwrap();
        std::fs::create_dir_all(root.join("results/s")).unwrap();
        std::fs::write(root.join("results/s/manifest.toml"), b"m").unwrap();
        std::fs::write(root.join("results/s/trials.csv"), b"t").unwrap();
        assert_eq!(hash_input(&root).unwrap(), h0);
        // One byte, or a renamed file, changes it.
        std::fs::write(root.join("pkg/util.py"), b"x = 2").unwrap();
        let h1 = hash_input(&root).unwrap();
        assert_ne!(h1, h0);
        std::fs::rename(root.join("pkg/util.py"), root.join("pkg/utils.py")).unwrap();
        assert_ne!(hash_input(&root).unwrap(), h1);
    }

    #[test]
    fn a_missing_input_is_an_error_naming_it() {
        let e = hash_input(Path::new("/nonexistent/x.py")).unwrap_err();
        assert!(e.contains("/nonexistent/x.py"), "{e}");
    }
}
