//! Stopping a search from the keyboard (Ctrl-C) or a `kill` (SIGTERM).
//!
//! The first signal only raises a flag: the coordinator stops proposing,
//! command trials still running are killed (with their process groups) and
//! dropped, and every trial that finished before them is committed in order,
//! so the results folder resumes like one a crash left. A second signal
//! kills the remaining process groups and exits at once (status 130): the
//! journal is safe at any instant, so nothing committed is lost either way.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Process groups of the programs running now (see `objective::command`).
static GROUPS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// Exit status of a search stopped by a signal (128 + SIGINT, as shells use).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Install the handler for SIGINT and SIGTERM. Call once, from the CLI;
/// a library user who does not call it gets the default signal behaviour.
pub fn install() -> Result<(), String> {
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            kill_all();
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!(
            "\nstopping: killing running trials; what finished is kept (press Ctrl-C again to quit now)"
        );
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Ask the search to stop, as Ctrl-C does (for embedding and tests).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Remember a running program's process group, so a second Ctrl-C can
/// kill it.
pub(crate) fn register(group: u32) {
    if let Ok(mut g) = GROUPS.lock() {
        g.insert(group);
    }
}

/// Forget a process group once its program has been reaped.
pub(crate) fn unregister(group: u32) {
    if let Ok(mut g) = GROUPS.lock() {
        g.remove(&group);
    }
}

fn kill_all() {
    // try_lock: the handler must not wait on a worker that holds the lock.
    if let Ok(g) = GROUPS.try_lock() {
        for &group in g.iter() {
            kill_group(group);
        }
    }
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
