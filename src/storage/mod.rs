//! One search on many machines: workers that share a PostgreSQL database
//! (design.md, "Storage").
//!
//! The database holds, per search (keyed by its root hash), what a worker
//! must match and one row per trial: a claim with a lease (expiry on the
//! database's clock), then the committed result. A worker reads the
//! committed results it has not seen (trial index ≥ its local journal's
//! length, up to the first gap), then in one statement commits what it
//! has finished and claims the lowest trials the window rule lets it
//! start (a batch of fast trials when no proposal needs history),
//! proposes them from the committed history exactly as `search::run` does
//! (`search::propose_next`, `search::run_trial`), evaluates them while a
//! heartbeat extends its leases; the first commit of a trial wins and a
//! later one is dropped. Committed rows reach the
//! worker's own results folder in trial order, so `trials.csv` is the one
//! a single machine writes.
//!
//! Environment (for tests and slow networks): `HPSEARCH_LEASE_SECONDS`
//! (default 60: a dead worker's trial is rerun by another after this
//! long) and `HPSEARCH_STORAGE_RETRY_SECONDS` (default 120: how long a
//! worker retries a lost connection before it exits 1).

pub(crate) mod postgres;

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use ::postgres::{Client, Statement};

use crate::config::Search;
use crate::interrupt::StopToken;
use crate::journal::{self, parse_steps, steps_text, Journal};
use crate::objective::{Evaluation, Objective, Status};
use crate::search::{self, Failures, Outcome, SearchError, State};
use crate::strategy::{History, Trial};
use crate::value::Params;

pub use self::postgres::Target;

/// Why storage stopped a command.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Bad input, a refused connection or another search's database:
    /// nothing was done (exit 2).
    #[error("{0}")]
    Input(String),
    /// The connection was lost and did not come back in time, or the
    /// server refused a statement mid-run (exit 1).
    #[error("{0}")]
    Failed(String),
    /// The search stopped as `search::run` stops (Ctrl-C, failures, a bug
    /// or the local journal's I/O).
    #[error(transparent)]
    Search(#[from] SearchError),
}

fn env_seconds(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .unwrap_or(default)
}

/// How long a claim lasts without a heartbeat.
pub fn lease_seconds() -> f64 {
    env_seconds("HPSEARCH_LEASE_SECONDS", 60.0)
}

/// How long a lost connection is retried before giving up (exit 1).
pub fn retry_seconds() -> f64 {
    env_seconds("HPSEARCH_STORAGE_RETRY_SECONDS", 120.0)
}

/// The name a search is stored under: its file's stem.
pub fn search_name(search: &Search) -> String {
    search
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "search".into())
}

/// The data and input files a search read, with their hashes, in words.
fn inputs_text(search: &Search) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &search.data {
        parts.push(format!("data {} sha256 {}", d.path.display(), d.sha256));
    }
    if let Some(c) = search.command() {
        for i in &c.inputs {
            parts.push(format!("input {} sha256 {}", i.name, i.sha256));
        }
    }
    if parts.is_empty() {
        "no data".into()
    } else {
        parts.join("; ")
    }
}

/// A connection that reconnects with backoff when the server goes away,
/// with the statements it has prepared (each is parsed and planned once
/// per connection, and then costs one round trip).
struct Db {
    target: Target,
    client: Client,
    /// Statements prepared on `client`, by their text; emptied on a
    /// reconnect (a new session knows none).
    prepared: Vec<(&'static str, Statement)>,
}

impl Db {
    fn new(target: Target, client: Client) -> Db {
        Db {
            target,
            client,
            prepared: Vec::new(),
        }
    }

    /// `sql` prepared on the current connection (once).
    fn statement(&mut self, sql: &'static str) -> Result<Statement, ::postgres::Error> {
        if let Some((_, st)) = self.prepared.iter().find(|(q, _)| *q == sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql)?;
        self.prepared.push((sql, st.clone()));
        Ok(st)
    }

    /// Run `f` with statement `sql`; on a lost connection, reconnect and
    /// run it again (saying so on stderr), for at most [`retry_seconds`].
    /// Every statement run this way is safe to repeat.
    fn run<T>(
        &mut self,
        what: &str,
        sql: &'static str,
        mut f: impl FnMut(&mut Client, &Statement) -> Result<T, ::postgres::Error>,
    ) -> Result<T, StorageError> {
        let began = Instant::now();
        let limit = retry_seconds();
        let mut wait = 0.25f64;
        loop {
            let done = match self.statement(sql) {
                Ok(st) => f(&mut self.client, &st),
                Err(e) => Err(e),
            };
            let e = match done {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let why = self.target.scrub(&postgres::cause(&e));
            if !postgres::is_connection_loss(&e, &self.client) {
                return Err(StorageError::Failed(format!(
                    "--storage {}: {what}: {why}",
                    self.target.shown
                )));
            }
            if began.elapsed().as_secs_f64() + wait > limit {
                return Err(StorageError::Failed(format!(
                    "--storage {}: lost the connection to the database ({why}) and it did not come \
                     back within {limit} s (HPSEARCH_STORAGE_RETRY_SECONDS); run the same command \
                     again to go on",
                    self.target.shown
                )));
            }
            eprintln!(
                "hpsearch: lost the connection to the database while trying to {what} ({why}); \
                 retrying in {wait:.2} s"
            );
            std::thread::sleep(Duration::from_secs_f64(wait));
            wait = (wait * 2.0).min(8.0);
            if let Ok(c) = self.target.connect() {
                self.client = c;
                self.prepared.clear();
                eprintln!("hpsearch: reconnected to the database");
            }
        }
    }
}

/// A search in the database, checked against this worker's search.
pub(crate) struct Storage {
    db: Db,
    /// The search's id in the database.
    sid: i64,
}

impl Storage {
    /// Connect, create the schema on first use, and find (or, when
    /// `create`, register) `search`, refusing one the database holds with
    /// other hashes or another hpsearch version. Touches no file.
    pub fn open(target: &Target, search: &Search, create: bool) -> Result<Storage, StorageError> {
        let mut client = target.connect_or_refuse()?;
        postgres::ensure_schema(&mut client, &target.shown)?;
        let shown = &target.shown;
        let refuse = |e: ::postgres::Error| {
            StorageError::Input(format!(
                "--storage {shown}: {}",
                target.scrub(&postgres::cause(&e))
            ))
        };
        let root = search.root().hex();
        let name = target.name.clone().unwrap_or_else(|| search_name(search));
        let inputs = inputs_text(search);
        let version = env!("CARGO_PKG_VERSION");
        let format = journal::FORMAT as i32;
        let budget = search.budget() as i64;
        let canonical = serde_json::to_string(&search.canonical()).unwrap_or_default();
        let mut tx = client.transaction().map_err(refuse)?;
        tx.execute("SELECT pg_advisory_xact_lock(7526756393148023144)", &[])
            .map_err(refuse)?;
        // Another search stored under this name: the same file with other
        // data or settings. Refused, naming both.
        let other = tx
            .query_opt(
                "SELECT root_hash, inputs FROM hpsearch_search WHERE name = $1 AND root_hash <> $2 \
                 ORDER BY id LIMIT 1",
                &[&name, &root],
            )
            .map_err(refuse)?;
        if let Some(row) = other {
            let (theirs, their_inputs): (String, String) = (row.get(0), row.get(1));
            return Err(StorageError::Input(format!(
                "{}: the database holds another search named {name} (root hash {theirs}; \
                 {their_inputs}); this file gives root hash {root} ({inputs}). Workers must run \
                 the same search on the same data; give it another `--name` (or rename the \
                 search file) to store a new search",
                search.file.display()
            )));
        }
        let found = tx
            .query_opt(
                "SELECT id, hpsearch_version, results_format, budget FROM hpsearch_search \
                 WHERE root_hash = $1",
                &[&root],
            )
            .map_err(refuse)?;
        let sid: i64 = match found {
            Some(row) => {
                let (sid, theirs, their_format, stored): (i64, String, i32, i64) =
                    (row.get(0), row.get(1), row.get(2), row.get(3));
                if theirs != version || their_format != format {
                    return Err(StorageError::Input(format!(
                        "{}: search {name} (root hash {root}) was started by hpsearch {theirs} \
                         (results format {their_format}); this is hpsearch {version} (format \
                         {format}). Run the same version on every worker",
                        search.file.display()
                    )));
                }
                if create && budget > stored {
                    tx.execute(
                        "UPDATE hpsearch_search SET budget = $2 WHERE id = $1",
                        &[&sid, &budget],
                    )
                    .map_err(refuse)?;
                }
                sid
            }
            None if create => tx
                .query_one(
                    "INSERT INTO hpsearch_search (root_hash, name, hpsearch_version, \
                     results_format, inputs, search_text, budget) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     RETURNING id",
                    &[&root, &name, &version, &format, &inputs, &canonical, &budget],
                )
                .map_err(refuse)?
                .get(0),
            None => {
                return Err(StorageError::Input(format!(
                    "{}: the database holds no search {name} with root hash {root}; start workers \
                     with `hpsearch run {} --storage URL` first",
                    search.file.display(),
                    search.file.display()
                )))
            }
        };
        if create {
            // Every trial of the budget has its row from the start, so
            // claiming is one UPDATE of an existing row.
            tx.execute(
                "INSERT INTO hpsearch_trial (search, idx) SELECT $1, g FROM \
                 generate_series(0::bigint, $2::bigint - 1) g ON CONFLICT DO NOTHING",
                &[&sid, &budget],
            )
            .map_err(refuse)?;
        }
        tx.commit().map_err(refuse)?;
        Ok(Storage {
            db: Db::new(target.clone(), client),
            sid,
        })
    }

    /// Run `search` as one worker of the database's search, appending
    /// every committed trial (whoever ran it) to `journal` in trial order,
    /// until trials `0 .. budget` are all committed. With `threads == 0`
    /// it only copies what is committed (`pull`) and returns.
    #[allow(clippy::too_many_arguments)]
    pub fn work(
        &mut self,
        search: &Search,
        objective: &dyn Objective,
        journal: &mut Journal,
        mut state: State,
        budget: u64,
        threads: usize,
        stop: &StopToken,
        observe: &mut dyn FnMut(&Outcome),
    ) -> Result<u64, StorageError> {
        let strategy = search.strategy.build();
        let strategy = strategy.as_ref();
        let uses_history = strategy.uses_history();
        let held = uses_history || search.pruner.is_some();
        let root = search.root();
        let search_seed = root.search_seed();
        let mut sync = Sync {
            prefix: state.curves.len() as u64,
            failures: Failures::new(search),
            stop: None,
        };
        if threads == 0 {
            // Only reading: what `sync` would say of failures in a row is
            // not asked.
            self.sync(search, journal, &mut state, &mut sync, budget, observe)?;
            journal.sync().map_err(SearchError::from)?;
            return Ok(sync.prefix);
        }
        let sid = self.sid;
        let wid: i64 = self.db.run("register this worker", REGISTER, |c, st| {
            c.query_one(
                st,
                &[
                    &sid,
                    &journal::host(),
                    &(std::process::id() as i64),
                    &(threads as i32),
                ],
            )
            .map(|r| r.get(0))
        })?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| SearchError::Pool {
                threads,
                message: e.to_string(),
            })?;
        let lease = lease_seconds();
        let inflight: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
        let quit = Arc::new(AtomicBool::new(false));
        let beat = heartbeat(
            self.db.target.clone(),
            sid,
            wid,
            lease,
            inflight.clone(),
            quit.clone(),
        );
        let workdirs = objective
            .needs_workdir()
            .then(|| journal.dir().to_path_buf());
        let (tx, rx) = mpsc::channel::<Outcome>();
        let mut out = 0usize;
        let mut poll = POLL_MIN;
        // Trials claimed and not yet started, in index order.
        let mut queue: VecDeque<u64> = VecDeque::new();
        // Results not yet committed (still heartbeaten), and since when
        // the oldest waits.
        let mut pending: Vec<Outcome> = Vec::new();
        let mut pending_since = Instant::now();
        let mut pace = Pace::default();
        // Set by a claim: the read just made is current.
        let mut fresh = false;
        let result = pool.in_place_scope(|scope| -> Result<(), StorageError> {
            loop {
                let stopping = sync.stop.is_some() || stop.is_stopped();
                while out < threads && !stopping {
                    let Some(i) = queue.pop_front() else { break };
                    if i < sync.prefix {
                        // Committed by another worker while it waited here
                        // (this worker's lease ran out): not run again.
                        if let Ok(mut set) = inflight.lock() {
                            set.remove(&(i as i64));
                        }
                        continue;
                    }
                    let known = uses_history.then(|| {
                        while state.proposals.len() as u64 <= i {
                            let j = state.proposals.len() as u64;
                            let p = search::propose_next(
                                search,
                                strategy,
                                &state,
                                search_seed,
                                root.trial_seed(j),
                            );
                            state.proposals.push(p);
                        }
                        state.proposals[i as usize].clone()
                    });
                    let judge = search::pruner_for(search, &state, i);
                    let seed = root.trial_seed(i);
                    let tx = tx.clone();
                    let workdirs = workdirs.as_deref();
                    out += 1;
                    scope.spawn(move |_| {
                        let began = Instant::now();
                        let ask = judge.map(crate::pruner::Pruner::shared);
                        let outcome = match search::run_trial(
                            search,
                            strategy,
                            objective,
                            known,
                            i,
                            seed,
                            search_seed,
                            workdirs,
                            ask.as_ref(),
                            stop,
                        ) {
                            Ok((params, eval)) => Outcome {
                                trial: i,
                                seed,
                                params,
                                eval,
                                seconds: began.elapsed().as_secs_f64(),
                                thread: rayon::current_thread_index().unwrap_or(0),
                                bug: None,
                            },
                            Err(what) => Outcome {
                                trial: i,
                                seed,
                                params: Params::new(),
                                eval: Evaluation::interrupted(),
                                seconds: 0.0,
                                thread: 0,
                                bug: Some(what),
                            },
                        };
                        let _ = tx.send(outcome);
                    });
                }
                // The database is asked only when this worker has nothing
                // queued (to claim more, or to wait for the window; not
                // right after a claim that filled every thread), when
                // results have waited long, or when it stops.
                let flush =
                    !pending.is_empty() && pending_since.elapsed().as_secs_f64() >= FLUSH_SECONDS;
                let just_filled = std::mem::take(&mut fresh) && out == threads;
                if (queue.is_empty() && !just_filled) || flush || stopping {
                    let before = sync.prefix;
                    self.sync(search, journal, &mut state, &mut sync, budget, observe)?;
                    if sync.prefix > before {
                        poll = POLL_MIN;
                    }
                    if sync.prefix >= budget {
                        self.step(wid, lease, &mut pending, 0, 0, &inflight)?;
                        // Trials still running here were committed by
                        // others: command trials are stopped (SIGTERM,
                        // SIGKILL after the grace) so this worker exits
                        // promptly; a result that arrives anyway is
                        // dropped, but checked equal.
                        let _discard = Discard::start(stop, out > 0);
                        while out > 0 {
                            let Ok(o) = rx.recv() else { break };
                            out -= 1;
                            if o.bug.is_none() && o.eval.status != Status::Interrupted {
                                pending.push(o);
                                self.step(wid, lease, &mut pending, 0, 0, &inflight)?;
                            }
                        }
                        return Ok(());
                    }
                    let stopping = sync.stop.is_some() || stop.is_stopped();
                    let free = if stopping || !queue.is_empty() {
                        0
                    } else {
                        threads - out
                    };
                    let want = if free == 0 {
                        0
                    } else if held {
                        free
                    } else {
                        pace.batch(free, threads)
                    };
                    if want > 0 || !pending.is_empty() {
                        let last = if held {
                            (sync.prefix + search.window - 1).min(budget - 1)
                        } else {
                            budget - 1
                        };
                        let got = self.step(wid, lease, &mut pending, last, want, &inflight)?;
                        if !got.is_empty() {
                            poll = POLL_MIN;
                            queue.extend(got);
                            fresh = true;
                            continue;
                        }
                    }
                }
                if out == 0 && (sync.stop.is_some() || stop.is_stopped()) {
                    return Err(match sync.stop.take() {
                        Some(e) => e.into(),
                        None => SearchError::Interrupted {
                            committed: sync.prefix,
                        }
                        .into(),
                    });
                }
                let wait = if out > 0 && !queue.is_empty() {
                    POLL_MAX
                } else {
                    poll
                };
                let first = match rx.recv_timeout(Duration::from_secs_f64(wait)) {
                    Ok(o) => o,
                    Err(_) => {
                        poll = (poll * 2.0).min(POLL_MAX);
                        continue;
                    }
                };
                poll = POLL_MIN;
                let mut arrived = vec![first];
                while let Ok(more) = rx.try_recv() {
                    arrived.push(more);
                }
                for o in arrived {
                    out -= 1;
                    if let Some(message) = &o.bug {
                        if sync.stop.is_none() {
                            sync.stop = Some(SearchError::Bug {
                                trial: o.trial,
                                message: message.clone(),
                            });
                        }
                        self.release(wid, o.trial, &inflight)?;
                    } else if o.eval.status == Status::Interrupted {
                        self.release(wid, o.trial, &inflight)?;
                    } else {
                        pace.add(o.seconds);
                        if pending.is_empty() {
                            pending_since = Instant::now();
                        }
                        pending.push(o);
                    }
                }
            }
        });
        quit.store(true, Ordering::SeqCst);
        let _ = beat.join();
        // Whatever happened, leave no claim of ours behind and say we left.
        let _ = self.db.client.execute(
            "UPDATE hpsearch_trial SET worker = NULL, lease = NULL \
             WHERE search = $1 AND worker = $2 AND NOT done",
            &[&sid, &wid],
        );
        let _ = self.db.client.execute(
            "UPDATE hpsearch_worker SET finished = true, heartbeat = now() WHERE id = $1",
            &[&wid],
        );
        let synced = journal.sync();
        match (result, synced) {
            (Err(StorageError::Search(SearchError::Journal(e))), _) | (_, Err(e)) => {
                Err(SearchError::Journal(e).into())
            }
            (result, Ok(())) => result.map(|()| sync.prefix),
        }
    }

    /// One round trip: commit the results in `pending` (emptying it) and
    /// claim up to `want` more trials, the lowest ≤ `last` that are not
    /// committed and not claimed under a live lease (`FOR UPDATE SKIP
    /// LOCKED`, so two workers never hold the same claim). Returns the
    /// claimed indices in order and adds them to `inflight`; the committed
    /// ones leave it. The first commit of a trial wins: a result for a
    /// trial already committed (by a worker whose lease this one outlived,
    /// or by this one when a reply was lost) is dropped, and checked equal.
    fn step(
        &mut self,
        wid: i64,
        lease: f64,
        pending: &mut Vec<Outcome>,
        last: u64,
        want: usize,
        inflight: &Mutex<BTreeSet<i64>>,
    ) -> Result<Vec<u64>, StorageError> {
        if pending.is_empty() && want == 0 {
            return Ok(Vec::new());
        }
        let sid = self.sid;
        let last = last as i64;
        let limit = want as i64;
        let b = Batch::of(pending);
        let rows = self.db.run("commit and claim trials", STEP, |c, st| {
            c.query(
                st,
                &[
                    &sid, &wid, &lease, &last, &limit, &b.idx, &b.params, &b.status, &b.value,
                    &b.folds, &b.flo, &b.fhi, &b.extra, &b.elo, &b.ehi, &b.steps, &b.error,
                    &b.seconds, &b.thread,
                ],
            )
        })?;
        let mut committed = BTreeSet::new();
        let mut claimed = Vec::new();
        for r in rows {
            let idx: i64 = r.get(1);
            if r.get::<_, bool>(0) {
                committed.insert(idx);
            } else {
                claimed.push(idx);
            }
        }
        claimed.sort_unstable();
        if let Ok(mut set) = inflight.lock() {
            for o in pending.iter() {
                set.remove(&(o.trial as i64));
            }
            set.extend(claimed.iter().copied());
        }
        for (k, o) in pending.iter().enumerate() {
            if !committed.contains(&(o.trial as i64)) {
                self.check_committed(o, &b.params[k], &b.steps[k])?;
            }
        }
        pending.clear();
        Ok(claimed.into_iter().map(|i| i as u64).collect())
    }

    /// Give back a trial this worker will not finish.
    fn release(
        &mut self,
        wid: i64,
        trial: u64,
        inflight: &Mutex<BTreeSet<i64>>,
    ) -> Result<(), StorageError> {
        let sid = self.sid;
        let idx = trial as i64;
        self.db.run("release a trial", RELEASE, |c, st| {
            c.execute(st, &[&sid, &idx, &wid])
        })?;
        if let Ok(mut set) = inflight.lock() {
            set.remove(&idx);
        }
        Ok(())
    }

    /// A result this worker could not commit because the trial already
    /// was: warn when the committed result differs (a time-out excepted).
    fn check_committed(
        &mut self,
        o: &Outcome,
        params: &str,
        steps: &str,
    ) -> Result<(), StorageError> {
        let sid = self.sid;
        let idx = o.trial as i64;
        let e = &o.eval;
        let row = self.db.run("read a committed trial", READ_ONE, |c, st| {
            c.query_opt(st, &[&sid, &idx])
        })?;
        if let Some(r) = row {
            let same_f = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            let theirs_status: String = r.get(1);
            let folds: Vec<f64> = r.get(3);
            let same = r.get::<_, String>(0) == params
                && theirs_status == e.status.name()
                && same_f(r.get(2), e.value)
                && folds.len() == e.folds.len()
                && folds.iter().zip(&e.folds).all(|(&a, &b)| same_f(a, b))
                && r.get::<_, Vec<String>>(4) == e.extra
                && r.get::<_, String>(5) == steps
                && r.get::<_, Option<String>>(6) == e.error;
            // A time-out depends on the machine, so it may differ.
            let timeout = e.status == Status::Timeout || theirs_status == "timeout";
            if !same && !timeout {
                eprintln!(
                    "warning: trial {}: this worker's result differs from the one already \
                     committed (status {} here, {theirs_status} there); the committed one is kept. \
                     Is the objective deterministic (the same parameters and seed give the same \
                     result)?",
                    o.trial,
                    e.status.name()
                );
            }
        }
        Ok(())
    }

    /// Read the committed trials from `sync.prefix` on and append those
    /// that extend the contiguous prefix to `journal`, updating `state` as
    /// `search::run` does for its own commits.
    #[allow(clippy::too_many_arguments)]
    fn sync(
        &mut self,
        search: &Search,
        journal: &mut Journal,
        state: &mut State,
        sync: &mut Sync,
        budget: u64,
        observe: &mut dyn FnMut(&Outcome),
    ) -> Result<(), StorageError> {
        let sid = self.sid;
        let from = sync.prefix as i64;
        let until = budget as i64;
        let rows = self.db.run("read committed trials", READ_PREFIX, |c, st| {
            c.query(st, &[&sid, &from, &until])
        })?;
        let strategy = search.strategy.build();
        let uses_history = strategy.uses_history();
        let root = search.root();
        let search_seed = root.search_seed();
        let bad = |i: u64, what: String| {
            StorageError::Failed(format!(
                "the database's trial {i} {what}; was the database edited, or written by another \
                 build of hpsearch?"
            ))
        };
        for row in rows {
            let i = row.get::<_, i64>(0) as u64;
            if i != sync.prefix {
                break;
            }
            let stored_params: String = row.get(1);
            let status_text: String = row.get(2);
            let status = Status::parse(&status_text)
                .ok_or_else(|| bad(i, format!("has status {status_text:?}")))?;
            let steps_stored: String = row.get(6);
            let eval = Evaluation {
                status,
                value: row.get(3),
                folds: row.get(4),
                extra: row.get(5),
                steps: parse_steps(&steps_stored)
                    .ok_or_else(|| bad(i, format!("has steps {steps_stored:?}")))?,
                error: row.get(7),
            };
            let seed = root.trial_seed(i);
            let params = if uses_history {
                while state.proposals.len() as u64 <= i {
                    let j = state.proposals.len() as u64;
                    let p = search::propose_next(
                        search,
                        strategy.as_ref(),
                        state,
                        search_seed,
                        root.trial_seed(j),
                    );
                    state.proposals.push(p);
                }
                state.proposals[i as usize].clone()
            } else {
                let t = Trial {
                    space: &search.space,
                    index: i,
                    seed,
                    search_seed,
                };
                strategy.propose(&t, &History::default())
            };
            if params_text(&params) != stored_params {
                return Err(bad(
                    i,
                    format!(
                        "has parameters {stored_params} where this search proposes {}",
                        params_text(&params)
                    ),
                ));
            }
            let outcome = Outcome {
                trial: i,
                seed,
                params,
                eval,
                seconds: row.get(8),
                thread: row.get::<_, i32>(9).max(0) as usize,
                bug: None,
            };
            search::commit(search, uses_history, journal, state, &outcome);
            sync.prefix += 1;
            if let Some(e) = sync.failures.count(&outcome) {
                sync.stop.get_or_insert(e);
            }
            observe(&outcome);
        }
        journal.commit().map_err(SearchError::from)?;
        Ok(())
    }
}

/// The shortest and longest wait between two looks at the database when
/// there is nothing to claim.
const POLL_MIN: f64 = 0.005;
const POLL_MAX: f64 = 0.25;

/// How long results may wait, uncommitted, while this worker has trials
/// queued.
const FLUSH_SECONDS: f64 = 0.25;

/// A batch of claims is sized to about this much work (per thread), from
/// the mean time of this worker's trials so far, so that a worker that
/// dies leaves little to rerun and the last batches end together.
const BATCH_SECONDS: f64 = 0.05;

/// The most trials one claim takes.
const MAX_BATCH: usize = 64;

/// The mean time of this worker's trials, which sizes its claims.
#[derive(Default)]
struct Pace {
    sum: f64,
    n: u64,
}

impl Pace {
    fn add(&mut self, seconds: f64) {
        if seconds.is_finite() && seconds >= 0.0 {
            self.sum += seconds;
            self.n += 1;
        }
    }

    /// How many trials to claim for `free` idle threads of `threads`: one
    /// per idle thread until a trial has been timed; then enough for
    /// about [`BATCH_SECONDS`] per thread, at most [`MAX_BATCH`].
    fn batch(&self, free: usize, threads: usize) -> usize {
        if self.n == 0 {
            return free;
        }
        let mean = (self.sum / self.n as f64).max(1e-6);
        let fit = (BATCH_SECONDS * threads as f64 / mean).min(MAX_BATCH as f64) as usize;
        fit.max(free)
    }
}

/// Results as the columns [`STEP`] takes: one array per column, the
/// fold scores and result cells of all trials in one array each, with
/// each trial's 1-based slice `[lo:hi]`.
struct Batch {
    idx: Vec<i64>,
    params: Vec<String>,
    status: Vec<&'static str>,
    value: Vec<f64>,
    folds: Vec<f64>,
    flo: Vec<i32>,
    fhi: Vec<i32>,
    extra: Vec<String>,
    elo: Vec<i32>,
    ehi: Vec<i32>,
    steps: Vec<String>,
    error: Vec<Option<String>>,
    seconds: Vec<f64>,
    thread: Vec<i32>,
}

impl Batch {
    fn of(results: &[Outcome]) -> Batch {
        let mut b = Batch {
            idx: Vec::new(),
            params: Vec::new(),
            status: Vec::new(),
            value: Vec::new(),
            folds: Vec::new(),
            flo: Vec::new(),
            fhi: Vec::new(),
            extra: Vec::new(),
            elo: Vec::new(),
            ehi: Vec::new(),
            steps: Vec::new(),
            error: Vec::new(),
            seconds: Vec::new(),
            thread: Vec::new(),
        };
        for o in results {
            let e = &o.eval;
            b.idx.push(o.trial as i64);
            b.params.push(params_text(&o.params));
            b.status.push(e.status.name());
            b.value.push(e.value);
            b.flo.push(b.folds.len() as i32 + 1);
            b.folds.extend_from_slice(&e.folds);
            b.fhi.push(b.folds.len() as i32);
            b.elo.push(b.extra.len() as i32 + 1);
            b.extra.extend(e.extra.iter().cloned());
            b.ehi.push(b.extra.len() as i32);
            b.steps.push(steps_text(&e.steps));
            b.error.push(e.error.clone());
            b.seconds.push(o.seconds);
            b.thread.push(o.thread as i32);
        }
        b
    }
}

/// Commit results (a batch, as [`Batch`] lays it out) and claim up to `$5`
/// trials `≤ $4`, in one statement. The claim skips the trials being
/// committed, and rows other workers hold locked. The trials to claim are
/// picked once, as an array (an uncorrelated sub-select): an `IN (SELECT
/// … LIMIT … FOR UPDATE SKIP LOCKED)` may be rescanned per row and then
/// claim more than `$5`.
const STEP: &str = "\
WITH r AS (
  SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[], $9::float8[], $11::int[], \
    $12::int[], $14::int[], $15::int[], $16::text[], $17::text[], $18::float8[], $19::int[]) \
    AS r(idx, params, status, value, flo, fhi, elo, ehi, steps, error, seconds, thread)
), c AS (
  UPDATE hpsearch_trial t SET done = true, params = r.params, status = r.status, \
    value = r.value, folds = ($10::float8[])[r.flo:r.fhi], extra = ($13::text[])[r.elo:r.ehi], \
    steps = r.steps, error = r.error, seconds = r.seconds, thread = r.thread, \
    committed_by = $2, committed = now(), lease = NULL \
  FROM r WHERE t.search = $1 AND t.idx = r.idx AND NOT t.done \
  RETURNING t.idx
), n AS (
  UPDATE hpsearch_trial t SET worker = $2, lease = now() + make_interval(secs => $3), \
    claims = t.claims + 1 \
  WHERE t.search = $1 AND t.idx = ANY(ARRAY(SELECT idx FROM hpsearch_trial \
    WHERE search = $1 AND NOT done AND idx <= $4 AND (lease IS NULL OR lease < now()) \
      AND idx <> ALL($6::bigint[]) \
    ORDER BY idx LIMIT $5 FOR UPDATE SKIP LOCKED)) \
  RETURNING t.idx
)
SELECT true, idx FROM c UNION ALL SELECT false, idx FROM n";

/// The committed trials from `$2` up to the first one not committed (or
/// `$3`): only the rows that extend the contiguous prefix, in one
/// snapshot.
const READ_PREFIX: &str = "\
SELECT idx, params, status, value, folds, extra, steps, error, seconds, thread \
FROM hpsearch_trial WHERE search = $1 AND done AND idx >= $2 AND idx < \
  least($3, coalesce((SELECT idx FROM hpsearch_trial WHERE search = $1 AND NOT done \
    AND idx >= $2 ORDER BY idx LIMIT 1), $3)) \
ORDER BY idx";

const READ_ONE: &str = "SELECT params, status, value, folds, extra, steps, error \
FROM hpsearch_trial WHERE search = $1 AND idx = $2 AND done";

const RELEASE: &str = "UPDATE hpsearch_trial SET worker = NULL, lease = NULL \
WHERE search = $1 AND idx = $2 AND worker = $3 AND NOT done";

const REGISTER: &str = "INSERT INTO hpsearch_worker (search, host, pid, threads) \
VALUES ($1, $2, $3, $4) RETURNING id";

/// Where a worker stands in the committed history.
struct Sync {
    /// Trials `0 .. prefix` are committed and in the local journal.
    prefix: u64,
    failures: Failures,
    stop: Option<SearchError>,
}

/// A trial's parameters as stored (and compared): JSON `[[name, value], …]`
/// with values as `trials.csv` writes them.
fn params_text(params: &Params) -> String {
    let pairs: Vec<(&str, String)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_string()))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// Running command trials stopped ([`StopToken::discard_running`]) while
/// this lives.
struct Discard<'a>(Option<&'a StopToken>);

impl Discard<'_> {
    fn start(stop: &StopToken, on: bool) -> Discard<'_> {
        if on {
            stop.discard_running();
        }
        Discard(on.then_some(stop))
    }
}

impl Drop for Discard<'_> {
    fn drop(&mut self) {
        if let Some(stop) = self.0 {
            stop.keep_running();
        }
    }
}

/// The heartbeat: on its own connection, every quarter lease, extend the
/// leases of the trials this worker is running and record that it lives.
/// A failure is retried at the next beat (the main connection reports
/// lost connections).
fn heartbeat(
    target: Target,
    sid: i64,
    wid: i64,
    lease: f64,
    inflight: Arc<Mutex<BTreeSet<i64>>>,
    quit: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut client: Option<Client> = None;
        let every = Duration::from_secs_f64(lease / 4.0);
        let mut last = Instant::now();
        while !quit.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
            if last.elapsed() < every {
                continue;
            }
            last = Instant::now();
            if client.as_ref().is_none_or(|c| c.is_closed()) {
                client = target.connect().ok();
            }
            let Some(c) = client.as_mut() else {
                continue;
            };
            let held: Vec<i64> = inflight
                .lock()
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            let ok = c
                .execute(
                    "UPDATE hpsearch_trial SET lease = now() + make_interval(secs => $3) \
                     WHERE search = $1 AND worker = $2 AND idx = ANY($4) AND NOT done",
                    &[&sid, &wid, &lease, &held],
                )
                .and_then(|_| {
                    c.execute(
                        "UPDATE hpsearch_worker SET heartbeat = now() WHERE id = $1",
                        &[&wid],
                    )
                });
            if ok.is_err() {
                client = None;
            }
        }
    })
}

/// `hpsearch status`: every search in the database (or only the one with
/// root hash `root`), its progress and its live workers (a heartbeat
/// within two leases), as text.
pub fn status(target: &Target, root: Option<&str>) -> Result<String, StorageError> {
    let mut client = target.connect_or_refuse()?;
    postgres::ensure_schema(&mut client, &target.shown)?;
    let fail = |e: ::postgres::Error| {
        StorageError::Failed(format!(
            "--storage {}: {}",
            target.shown,
            target.scrub(&postgres::cause(&e))
        ))
    };
    let lease = lease_seconds();
    let searches = client
        .query(
            "SELECT s.id, s.name, s.root_hash, s.budget, \
               (SELECT count(*) FROM hpsearch_trial t WHERE t.search = s.id AND t.done), \
               (SELECT count(*) FROM hpsearch_trial t WHERE t.search = s.id AND NOT t.done \
                  AND t.lease >= now()) \
             FROM hpsearch_search s WHERE $1::text IS NULL OR s.root_hash = $1 \
             ORDER BY s.name, s.id",
            &[&root],
        )
        .map_err(fail)?;
    let mut out = String::new();
    if searches.is_empty() {
        out.push_str(match root {
            Some(_) => "the database holds no such search\n",
            None => "no search in this database\n",
        });
    }
    for s in searches {
        let (sid, name, root, budget, done, running): (i64, String, String, i64, i64, i64) =
            (s.get(0), s.get(1), s.get(2), s.get(3), s.get(4), s.get(5));
        out.push_str(&format!(
            "{name}  root {}  {done}/{budget} trials committed, {running} running\n",
            &root[..root.len().min(16)]
        ));
        let workers = client
            .query(
                "SELECT host, pid, threads, EXTRACT(EPOCH FROM now() - heartbeat)::float8 \
                 FROM hpsearch_worker WHERE search = $1 AND NOT finished \
                 AND heartbeat >= now() - make_interval(secs => $2) ORDER BY id",
                &[&sid, &(2.0 * lease)],
            )
            .map_err(fail)?;
        for w in workers {
            let (host, pid, threads, ago): (String, i64, i32, f64) =
                (w.get(0), w.get(1), w.get(2), w.get(3));
            out.push_str(&format!(
                "  worker {host} pid {pid}, {threads} threads, last heartbeat {ago:.1} s ago\n"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_grow_with_fast_trials_and_stay_single_for_slow_ones() {
        let mut p = Pace::default();
        // Nothing timed yet: one trial per idle thread.
        assert_eq!(p.batch(1, 1), 1);
        assert_eq!(p.batch(3, 4), 3);
        // 10 µs trials: the cap.
        p.add(1e-5);
        assert_eq!(p.batch(1, 1), MAX_BATCH);
        // A minute a trial: one per idle thread.
        let mut slow = Pace::default();
        slow.add(60.0);
        slow.add(f64::NAN);
        assert_eq!(slow.batch(2, 2), 2);
        // 10 ms trials on 2 threads: 0.1 s of work.
        let mut mid = Pace::default();
        mid.add(0.01);
        assert_eq!(mid.batch(1, 2), 10);
    }

    #[test]
    fn a_batch_slices_folds_and_cells_per_trial() {
        let outcome = |trial: u64, folds: Vec<f64>, extra: Vec<&str>| {
            let mut eval = Evaluation::ok(1.5, folds);
            eval.extra = extra.into_iter().map(String::from).collect();
            Outcome {
                trial,
                seed: 0,
                params: Params::new(),
                eval,
                seconds: 0.5,
                thread: 1,
                bug: None,
            }
        };
        let b = Batch::of(&[
            outcome(4, vec![1.0, 2.0], vec!["a"]),
            outcome(5, vec![], vec![]),
            outcome(6, vec![3.0], vec!["b", "c"]),
        ]);
        assert_eq!(b.idx, [4, 5, 6]);
        assert_eq!(b.folds, [1.0, 2.0, 3.0]);
        assert_eq!(
            (b.flo.clone(), b.fhi.clone()),
            (vec![1, 3, 3], vec![2, 2, 3])
        );
        assert_eq!(b.extra, ["a", "b", "c"]);
        assert_eq!(
            (b.elo.clone(), b.ehi.clone()),
            (vec![1, 2, 2], vec![1, 1, 3])
        );
    }
}
