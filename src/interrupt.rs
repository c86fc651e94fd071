//! Stopping a search from the keyboard (Ctrl-C) or a `kill` (SIGTERM), and
//! keeping the programs of command trials under control.
//!
//! A search stops through its [`StopToken`]; the CLI's signal handler
//! ([`install`]) stops the token of the search it runs, and a library user
//! stops theirs from anywhere. The first signal only stops the token: the
//! coordinator stops proposing,
//! command trials still running are killed (with everything they started)
//! and dropped, and every trial that finished before them is committed in
//! order, so the results folder resumes like one a crash left. A second
//! signal kills the remaining programs and exits at once (status 130): the
//! journal is safe at any instant, so nothing committed is lost either way.
//!
//! # Which processes belong to a trial
//!
//! A trial's program runs in its own process group, and every process it
//! starts inherits `HPSEARCH_TRIAL_DIR=<absolute trial folder>` in its
//! environment. A process that leaves the group (`setsid`, a double fork, a
//! daemon) keeps that variable, so `kill_trial` kills the group and then,
//! on Linux, every process whose `/proc/<pid>/environ` names the trial's
//! folder, until none is left.
//!
//! Why the environment rather than the alternatives:
//!
//! * a child subreaper (`PR_SET_CHILD_SUBREAPER`) collects orphans only
//!   while hpsearch lives, cannot tell which of several running trials an
//!   orphan came from, and its orphans would have to be reaped with
//!   `waitpid(-1)`, which steals the exit statuses `std::process` waits for;
//! * a cgroup needs a writable, delegated cgroup v2 tree, which ordinary
//!   users and most containers do not have;
//! * the environment needs no privilege, names the trial exactly, and still
//!   works after hpsearch itself was killed: a resumed search finds the
//!   processes an earlier run left in a trial folder before it reuses the
//!   folder ([`kill_holders`], called by `journal::fresh_trial_dir`).
//!
//! What escapes it: a process that replaces its whole environment
//! (`env -i`) or whose environment we may not read (another user's, a
//! set-user-ID program). Such a process can no longer stall a trial (its
//! output pipes are read against the wall clock, see `objective::command`),
//! but it is left running. On other Unix systems (no `/proc`) only the
//! process group is killed.
//!
//! On Linux every program also gets `PR_SET_PDEATHSIG = SIGKILL`, so it
//! dies when hpsearch is killed (`kill -9` included) instead of running on
//! beside a resumed search; what it started itself is found through the
//! environment when the trial's folder is reused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The programs running now (see `objective::command`): process group →
/// trial folder. Process-wide on purpose: a second Ctrl-C kills every
/// program this process started, whichever search started it.
static RUNNING: Mutex<BTreeMap<u32, PathBuf>> = Mutex::new(BTreeMap::new());

/// Exit status of a search stopped by a signal (128 + SIGINT, as shells use).
pub const EXIT_INTERRUPTED: i32 = 130;

/// The environment variable naming a trial's folder; every process a trial
/// starts inherits it, which is how [`kill_holders`] finds them.
pub const TRIAL_DIR_VAR: &str = "HPSEARCH_TRIAL_DIR";

/// Asks one search to stop: the coordinator stops proposing, trials not
/// yet started are dropped, running command trials are killed, and what
/// finished is committed in order (see the module doc). Clones share the
/// flag, so a token can be handed to another thread, a signal handler or a
/// user interface while the search runs with its twin.
///
/// ```
/// let stop = hpsearch::interrupt::StopToken::new();
/// let twin = stop.clone();
/// assert!(!stop.is_stopped());
/// twin.stop();
/// assert!(stop.is_stopped());
/// ```
#[derive(Clone, Debug, Default)]
pub struct StopToken(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    stop: AtomicBool,
    /// Set while running trials are not wanted (see
    /// [`StopToken::discard_running`]).
    discard: AtomicBool,
}

impl StopToken {
    /// A token that has not been stopped.
    pub fn new() -> StopToken {
        StopToken::default()
    }

    /// Ask the search to stop. Idempotent; there is no un-stopping (make a
    /// new token for the next run).
    pub fn stop(&self) {
        self.0.stop.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked.
    pub fn is_stopped(&self) -> bool {
        self.0.stop.load(Ordering::SeqCst)
    }

    /// Stop every command trial now running as a pruned one is stopped
    /// (SIGTERM to its group, SIGKILL after `prune_grace`), its result
    /// recorded as interrupted, until [`StopToken::keep_running`]. Storage
    /// calls it when other workers have committed the whole budget: what
    /// still runs here is not wanted. Starts of new trials are the
    /// caller's to prevent.
    pub(crate) fn discard_running(&self) {
        self.0.discard.store(true, Ordering::SeqCst);
    }

    /// End [`StopToken::discard_running`].
    pub(crate) fn keep_running(&self) {
        self.0.discard.store(false, Ordering::SeqCst);
    }

    /// Whether running trials are to be stopped.
    pub(crate) fn discarding(&self) -> bool {
        self.0.discard.load(Ordering::SeqCst)
    }
}

/// Install the handler for SIGINT and SIGTERM: the first signal stops
/// `token`, a second kills every running trial program and exits (status
/// [`EXIT_INTERRUPTED`]). A process can install it once (the CLI does); a
/// library user who does not call it keeps the default signal behaviour
/// and stops a search with its own token.
pub fn install(token: &StopToken) -> Result<(), String> {
    let token = token.clone();
    ctrlc::set_handler(move || {
        if token.0.stop.swap(true, Ordering::SeqCst) {
            kill_all();
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!(
            "\nstopping: killing running trials; what finished is kept (press Ctrl-C again to quit now)"
        );
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))
}

/// Remember a running program's process group and trial folder, so a
/// second Ctrl-C can kill it.
pub(crate) fn register(group: u32, dir: &Path) {
    if let Ok(mut g) = RUNNING.lock() {
        g.insert(group, dir.to_path_buf());
    }
}

/// Forget a program once it has been reaped.
pub(crate) fn unregister(group: u32) {
    if let Ok(mut g) = RUNNING.lock() {
        g.remove(&group);
    }
}

fn kill_all() {
    // try_lock: the handler must not wait on a worker that holds the lock.
    let running: Vec<(u32, PathBuf)> = match RUNNING.try_lock() {
        Ok(g) => g.iter().map(|(k, v)| (*k, v.clone())).collect(),
        Err(_) => return,
    };
    for (group, dir) in &running {
        kill_trial(*group, dir);
    }
}

/// Kill a trial's program and everything it started: its process group,
/// then every process whose environment names `dir` (see the module doc).
pub(crate) fn kill_trial(group: u32, dir: &Path) {
    kill_group(group);
    kill_holders(dir);
}

/// Send SIGKILL to every process of the group `group`. A group that is
/// already gone is not an error.
pub(crate) fn kill_group(group: u32) {
    #[cfg(unix)]
    {
        let Ok(pgid) = libc::pid_t::try_from(group) else {
            return;
        };
        if pgid > 1 {
            // SAFETY: kill(2) with a negative pid only sends a signal; it
            // touches no memory of this process.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = group;
}

/// Kill (SIGKILL) every process whose environment says it works in the
/// trial folder `dir` (`HPSEARCH_TRIAL_DIR`, the same folder however its
/// path is spelled), and wait a little for them to die, so none of them
/// writes into the folder afterwards. Returns how many were killed.
///
/// Linux only (it reads `/proc`); elsewhere it does nothing and returns 0.
pub fn kill_holders(dir: &Path) -> usize {
    #[cfg(target_os = "linux")]
    {
        linux::kill_holders(dir)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        0
    }
}

/// Make the program about to be spawned die with hpsearch (Linux:
/// `PR_SET_PDEATHSIG`), so a `kill -9` of hpsearch leaves no trial program
/// running beside a resumed search.
///
/// The kernel sends the signal when the *thread* that spawned the child
/// exits; trials are spawned from the search's worker threads, which live
/// until the search ends, or from the caller's thread (replay).
pub(crate) fn die_with_parent(cmd: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id();
        // SAFETY: the closure runs in the child between fork and exec and
        // calls only prctl(2), getppid(2) and errno, which are
        // async-signal-safe; it allocates nothing and takes no lock.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                // hpsearch died between fork and prctl: the signal will
                // never come, so do not run at all.
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use super::TRIAL_DIR_VAR;

    /// How many times the process table is scanned at most: a process
    /// that forks while we kill its relatives is found on the next scan.
    const ROUNDS: usize = 20;
    /// How long to wait for the killed processes to be gone, per round.
    const WAIT: Duration = Duration::from_secs(2);

    pub(super) fn kill_holders(dir: &Path) -> usize {
        let real = std::fs::canonicalize(dir).ok();
        let me = std::process::id();
        // Killed already: one that does not die (stuck in the kernel) is
        // waited for once, not once a round.
        let mut seen = std::collections::BTreeSet::new();
        let mut killed = 0;
        for _ in 0..ROUNDS {
            let mut found = holders(dir, real.as_deref(), me);
            found.retain(|p| seen.insert(*p));
            if found.is_empty() {
                break;
            }
            for &pid in &found {
                if let Ok(p) = libc::pid_t::try_from(pid) {
                    // SAFETY: kill(2) only sends a signal; it touches no
                    // memory of this process.
                    unsafe {
                        libc::kill(p, libc::SIGKILL);
                    }
                }
            }
            killed += found.len();
            let until = Instant::now() + WAIT;
            while Instant::now() < until && !found.iter().all(|&p| gone(p)) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        killed
    }

    /// The live processes (other than `me`) whose environment names `dir`.
    fn holders(dir: &Path, real: Option<&Path>, me: u32) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut want = TRIAL_DIR_VAR.as_bytes().to_vec();
        want.push(b'=');
        let prefix_len = want.len();
        want.extend_from_slice(dir.as_os_str().as_bytes());
        let mut out = Vec::new();
        // One buffer for every process: this runs at the end of every
        // trial, so it is kept cheap (about a millisecond for 100
        // processes).
        let mut env = Vec::with_capacity(16 * 1024);
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            // Unreadable (another user's, gone meanwhile) or empty (a
            // kernel thread, a zombie): not ours to kill.
            if read_environ(&e.path().join("environ"), &mut env).is_err() {
                continue;
            }
            let Some(value) = env
                .split(|&b| b == 0)
                .find(|v| v.starts_with(&want[..prefix_len]))
            else {
                continue;
            };
            let same = value == want.as_slice()
                || real.is_some_and(|r| {
                    let other = PathBuf::from(OsStr::from_bytes(&value[prefix_len..]));
                    std::fs::canonicalize(other).is_ok_and(|o| o == r)
                });
            if same && !gone(pid) {
                out.push(pid);
            }
        }
        out
    }

    /// Read `path` into `env` with plain reads: `read_to_end` would first
    /// ask for the size (two more system calls), which `/proc` files do
    /// not know.
    fn read_environ(path: &Path, env: &mut Vec<u8>) -> std::io::Result<()> {
        use std::io::Read;
        let mut f = std::fs::File::open(path)?;
        env.clear();
        let mut chunk = [0u8; 8192];
        loop {
            match f.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => env.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether `pid` has ended (absent, or a zombie waiting to be reaped).
    pub(super) fn gone(pid: u32) -> bool {
        match std::fs::read(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => {
                // The state follows the last ')' (the name may hold one).
                let after = stat
                    .iter()
                    .rposition(|&b| b == b')')
                    .map_or(&stat[..], |i| &stat[i + 1..]);
                matches!(
                    after.iter().find(|b| !b.is_ascii_whitespace()),
                    Some(b'Z' | b'X' | b'x')
                )
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    #[test]
    fn kill_holders_finds_a_process_that_left_the_group_by_its_environment() {
        let dir = tempfile::tempdir().unwrap();
        let trial = dir.path().join("trials").join("3");
        std::fs::create_dir_all(&trial).unwrap();
        // Spelled differently from `trial`: the same folder all the same.
        let spelled = dir.path().join("trials/./3/../3");
        let mut child = Command::new("sleep")
            .arg("60")
            .env(TRIAL_DIR_VAR, &spelled)
            .process_group(0)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut other = Command::new("sleep")
            .arg("60")
            .env(TRIAL_DIR_VAR, dir.path().join("trials").join("4"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // The environment is readable once exec has happened; wait for it.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut killed = 0;
        while killed == 0 && std::time::Instant::now() < until {
            killed = kill_holders(&trial);
        }
        assert_eq!(killed, 1);
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // Another trial's process is left alone.
        assert!(other.try_wait().unwrap().is_none());
        other.kill().unwrap();
        other.wait().unwrap();
        assert_eq!(kill_holders(&trial), 0);
    }
}
