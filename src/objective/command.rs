//! Any program as the objective: `[objective] command = ["python3", "train.py"]`,
//! or the program that runs an external objective from the CLI
//! (`[objective] external` with `command`), the same way.
//!
//! [`result_columns`] is the journal's layout of a result map and
//! [`result_cells`] its cells, which code giving an external objective's
//! results (a closure, a Python function) uses too, so its rows are the
//! program's.
//!
//! # The protocol
//!
//! Each trial runs the command once, as an argument list (never through a
//! shell), with standard input closed, in its own process group, from the
//! search file's folder. It gets its parameters three ways, which agree:
//!
//! * appended arguments `--name=value` (unless `args = false`), with
//!   floats in shortest round-trip form (`float("0.1")` in Python gives the
//!   same bits), integers as integers, booleans as `true`/`false` and
//!   strings as they are;
//! * environment variables `HPSEARCH_PARAM_<NAME>` (the name upper-cased),
//!   the same text as the arguments;
//! * a JSON object of typed values in the file named by `HPSEARCH_PARAMS`.
//!
//! and `HPSEARCH_SEED` (the trial's seed: seed every RNG from it),
//! `HPSEARCH_TRIAL` (the index) and `HPSEARCH_TRIAL_DIR`, a fresh folder
//! `trials/<index>/` of the results folder for the program's own files.
//!
//! The program reports its result as the **last line of its standard
//! output that is a JSON object with a `value` key**, e.g.
//! `{"value": 0.93, "train_loss": 0.21}`. Keys named in `[objective]
//! columns` get their own column in `trials.csv`; the other keys are kept,
//! as a JSON object, in the `extra` column (a key whose number no `f64`
//! holds, or Python's `NaN`, is kept as null). The trial **fails** when the
//! program exits with a non-zero status (or a signal), when no such line
//! was printed, when the last such line is longer than 1 MiB (a line that
//! starts with `{` and names `"value"`), or when `value` is not a finite
//! number (`NaN`, `Infinity`, `1e400`); the error says which, with the
//! last lines of standard error. The last 64 KiB of each stream are kept
//! in `stdout.log` and `stderr.log` in the trial's folder, however much
//! the program writes.
//!
//! # Intermediate values (with a pruner)
//!
//! With `[search.pruner]`, a line `{"step": <integer >= 0>, "value":
//! <number>}` is an intermediate value, never the result; they are read
//! as they arrive and kept in the trial's `steps`. Steps must strictly
//! increase and stay within `max_step`, and values be finite; otherwise
//! the trial fails with an error naming the line (the n-th intermediate
//! value) and the program is killed. After each value the pruner is
//! asked ([`TrialInfo::pruner`]); when it says stop, the process group
//! gets SIGTERM, then, `prune_grace` seconds later, the kill a time-out
//! gets. What is recorded does not depend on when the supervisor looked:
//! once the program has ended, the values are judged again in order
//! (`settle_steps`), the first step the pruner stops at makes the trial
//! `pruned` with the values up to it (later ones dropped) and that
//! step's value, else a bad step line makes it `failed`. Without a
//! pruner, step lines are output like any other (as before).
//!
//! # Keeping the program under control
//!
//! With `timeout = <seconds>`, a trial still running then is killed and
//! recorded as `timeout`; Ctrl-C kills it the same way. The clock is the
//! wall clock: the output pipes are polled against it, never read until
//! they close, so a process that keeps them open cannot stall the trial.
//! Killed means everything the trial started (`interrupt::kill_trial`:
//! its process group, then every process whose environment names its
//! folder), and that is also done when the program exits, so no trial
//! leaks processes into the next one. After the program exits, its pipes
//! are read until they are empty (all it wrote is there), waiting at most
//! half a second for processes that could not be killed to let go of them.
//! On Linux the program dies with hpsearch (`PR_SET_PDEATHSIG`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Evaluation, Objective, PruneFn, Status, TrialInfo};
use crate::config::{env_name, CommandSpec, EXTRA_COLUMN};
use crate::interrupt;
use crate::value::{fmt_f64, Params};

/// How much of each output stream is kept in the trial's folder.
const TAIL_BYTES: usize = 64 * 1024;
/// How many lines of standard error go into the `error` column.
const ERROR_LINES: usize = 5;
/// The longest stdout line considered as a result; longer ones are output.
const MAX_LINE: usize = 1 << 20;
/// How often a waiting trial looks at Ctrl-C and its clock.
const POLL: Duration = Duration::from_millis(50);
/// How long the output of a program that has exited is still read, when
/// something its trial could not kill holds the pipes open.
#[cfg(unix)]
const DRAIN: Duration = Duration::from_millis(500);

/// A program evaluated once per trial.
pub struct CommandObjective {
    spec: CommandSpec,
}

impl CommandObjective {
    /// The objective that runs `spec`'s program once per trial.
    pub fn new(spec: CommandSpec) -> CommandObjective {
        CommandObjective { spec }
    }
}

impl Objective for CommandObjective {
    fn evaluate(&self, params: &Params, trial: &TrialInfo<'_>) -> Evaluation {
        let Some(dir) = trial.workdir else {
            return Evaluation::failed("no working folder for the trial".into(), Vec::new());
        };
        match run(&self.spec, params, trial, dir) {
            Ok(e) => e,
            Err(message) => Evaluation::failed(message, Vec::new()),
        }
    }

    fn n_folds(&self) -> usize {
        0
    }

    fn needs_workdir(&self) -> bool {
        true
    }
}

/// The `trials.csv` columns a command's results fill after the fold
/// scores: the declared `columns`, then [`EXTRA_COLUMN`].
pub fn result_columns(declared: &[String]) -> Vec<String> {
    let mut c = declared.to_vec();
    c.push(EXTRA_COLUMN.to_string());
    c
}

/// Run one trial of `spec` in `dir`.
fn run(
    spec: &CommandSpec,
    params: &Params,
    trial: &TrialInfo<'_>,
    dir: &Path,
) -> Result<Evaluation, String> {
    let params_path = dir.join("params.json");
    let json = serde_json::to_vec_pretty(params).map_err(|e| e.to_string())?;
    std::fs::write(&params_path, json)
        .map_err(|e| format!("cannot write {}: {e}", params_path.display()))?;

    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.argv[1..])
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("HPSEARCH_PARAMS", &params_path)
        .env("HPSEARCH_SEED", trial.seed.to_string())
        .env("HPSEARCH_TRIAL", trial.index.to_string())
        .env(interrupt::TRIAL_DIR_VAR, dir);
    for (name, value) in params {
        let text = value.to_string();
        if spec.args {
            cmd.arg(format!("--{name}={text}"));
        }
        cmd.env(env_name(name), text);
    }
    // Its own process group: a timeout or Ctrl-C kills the program and
    // everything it started, and the terminal's Ctrl-C reaches only us.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    interrupt::die_with_parent(&mut cmd);

    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", spec.program.display()))?;
    let group = child.id();
    interrupt::register(group, dir);
    let steps = trial.pruner.map(|p| Steps {
        prune: &**p,
        grace: spec.prune_grace,
        max_step: spec.max_step,
    });
    let ended = supervise(
        child,
        group,
        dir,
        spec.timeout,
        spec.prune_grace,
        steps.as_ref(),
        trial,
    );
    interrupt::unregister(group);
    let (status, out, err) = ended?;

    // Keep the tails for the user; a failure to write them is not the
    // trial's failure.
    let _ = std::fs::write(dir.join("stdout.log"), &out.tail);
    let _ = std::fs::write(dir.join("stderr.log"), &err.tail);
    let mut eval = outcome(spec, status, &out, &err);
    if let Some(steps) = &steps {
        settle_steps(&mut eval, &out, steps);
    }
    Ok(eval)
}

/// How a trial's intermediate values are read and judged (with a pruner).
struct Steps<'a> {
    prune: &'a PruneFn,
    /// Seconds from SIGTERM to SIGKILL once pruned.
    grace: f64,
    max_step: Option<u64>,
}

impl Steps<'_> {
    /// The number of values after which the pruner stops the trial, the
    /// first prefix it says so for; `None` if it never does.
    fn prune_point(&self, steps: &[(u64, f64)], from: usize) -> Option<usize> {
        (from..steps.len())
            .find(|&k| (self.prune)(&steps[..=k]))
            .map(|k| k + 1)
    }
}

/// Make the evaluation what the settled rule decides from the values the
/// program printed, whatever the timing of the kill: pruned at the first
/// step the pruner says so (the values after it are dropped), else failed
/// at a bad step line, else as the program ended. Why this matters: the
/// program may print several steps before the supervisor looks, or exit
/// before it is stopped; the record must not depend on that.
fn settle_steps(eval: &mut Evaluation, out: &Stream, steps: &Steps<'_>) {
    if eval.status == Status::Interrupted {
        return;
    }
    let values = &out.steps;
    if let Some(pruned) = steps
        .prune_point(values, 0)
        .and_then(|n| Evaluation::pruned(values[..n].to_vec()))
    {
        let cells = eval.extra.len();
        *eval = Evaluation {
            extra: vec![String::new(); cells],
            ..pruned
        };
        return;
    }
    if let Some(e) = &out.step_error {
        let cells = eval.extra.len();
        *eval = Evaluation::failed(e.clone(), Vec::new());
        eval.extra = vec![String::new(); cells];
    }
    eval.steps = values.clone();
}

/// How the program ended.
enum Ended {
    Exited(ExitStatus),
    TimedOut(f64),
    Interrupted,
    /// Stopped by the pruner (SIGTERM, then SIGKILL after the grace).
    Pruned,
    /// Killed for a bad step line (the error is in the stream).
    BadStep,
}

/// Wait for `child` while reading its output, enforcing the timeout and
/// Ctrl-C on the wall clock; then kill whatever it left running (see
/// [`interrupt::kill_trial`]) and collect the output.
///
/// Why a waiting thread: a blocking `wait` returns the moment the program
/// exits, however loaded the machine, so a quick program costs little
/// more than starting it. Why the pipes are polled here rather than read
/// to their end: a process that escaped the kill (it replaced its
/// environment) may hold them open for ever. Everything the program wrote
/// before it exited is in the pipes when `wait` returns, so reading until
/// they are empty gets all of it, however the reads are timed.
#[cfg(unix)]
fn supervise(
    mut child: Child,
    group: u32,
    dir: &Path,
    timeout: Option<f64>,
    grace: f64,
    steps: Option<&Steps<'_>>,
    trial: &TrialInfo<'_>,
) -> Result<(Ended, Stream, Stream), String> {
    use std::os::fd::OwnedFd;
    let mut pipes = [
        Pipe::new(child.stdout.take().map(OwnedFd::from), true),
        Pipe::new(child.stderr.take().map(OwnedFd::from), false),
    ];
    if let Some(s) = steps {
        pipes[0].stream.read_steps = true;
        pipes[0].stream.max_step = s.max_step;
    }
    // How many intermediate values the pruner has judged, and when a
    // pruned program that ignores SIGTERM gets SIGKILL.
    let mut judged = 0usize;
    let mut grace_until: Option<Instant> = None;
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t));
    let mut killed: Option<Ended> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if !matches!(rx.try_recv(), Err(mpsc::TryRecvError::Empty)) {
            break;
        }
        if let (None, Some(s)) = (&killed, steps) {
            let values = &pipes[0].stream.steps;
            if let Some(n) = s.prune_point(values, judged) {
                judged = n;
                terminate_group(group);
                grace_until = Some(Instant::now() + Duration::from_secs_f64(s.grace));
                killed = Some(Ended::Pruned);
            } else {
                judged = values.len();
                if pipes[0].stream.step_error.is_some() {
                    interrupt::kill_trial(group, dir);
                    killed = Some(Ended::BadStep);
                }
            }
        }
        // Not wanted any more (storage: others committed the budget):
        // stopped as a pruned trial is, recorded as interrupted.
        // A program that has already exited is left to be reaped: its
        // result is still checked against the committed one.
        if killed.is_none() && trial.discarding() && !exited(group) {
            terminate_group(group);
            grace_until = Some(Instant::now() + Duration::from_secs_f64(grace));
            killed = Some(Ended::Interrupted);
        }
        if let Some(g) = grace_until {
            if trial.stop_requested() || Instant::now() >= g {
                interrupt::kill_trial(group, dir);
                grace_until = None;
            }
        }
        if killed.is_none() {
            if trial.stop_requested() {
                interrupt::kill_trial(group, dir);
                killed = Some(Ended::Interrupted);
            } else if let (Some(d), Some(t)) = (deadline, timeout) {
                if Instant::now() >= d {
                    interrupt::kill_trial(group, dir);
                    killed = Some(Ended::TimedOut(t));
                }
            }
        }
        let slice = match deadline {
            Some(d) if killed.is_none() => d.saturating_duration_since(Instant::now()).min(POLL),
            _ => POLL,
        };
        if pipes.iter().any(Pipe::is_open) {
            pump(&mut pipes, slice, &mut buf);
        } else if !matches!(rx.recv_timeout(slice), Err(mpsc::RecvTimeoutError::Timeout)) {
            break;
        }
    }
    let status = waiter
        .join()
        .map_err(|_| "the thread waiting for the program failed".to_string())?
        .map_err(|e| format!("cannot wait for the program: {e}"))?;
    // Whatever the program started and left behind dies with it; this
    // also closes the pipes those processes held.
    interrupt::kill_trial(group, dir);
    let until = Instant::now() + DRAIN;
    while pipes.iter().any(Pipe::is_open) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        pump(&mut pipes, left, &mut buf);
    }
    let [out, err] = pipes.map(|p| p.stream.finish());
    Ok((killed.unwrap_or(Ended::Exited(status)), out, err))
}

/// Without `poll(2)`: reader threads, joined once the program has exited
/// and its process group was killed.
#[cfg(not(unix))]
fn supervise(
    mut child: Child,
    group: u32,
    dir: &Path,
    timeout: Option<f64>,
    grace: f64,
    steps: Option<&Steps<'_>>,
    trial: &TrialInfo<'_>,
) -> Result<(Ended, Stream, Stream), String> {
    let _ = grace;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    // Without poll(2) the values are judged once the program has ended
    // (`settle_steps`): the record is the same, only nothing stops early.
    let max_step = steps.map(|s| s.max_step);
    let out_reader = std::thread::spawn(move || {
        stdout.map(|s| {
            let mut st = Stream::new(true);
            if let Some(m) = max_step {
                st.read_steps = true;
                st.max_step = m;
            }
            read_into(s, st)
        })
    });
    let err_reader = std::thread::spawn(move || stderr.map(|s| read_stream(s, false)));
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t));
    let mut killed: Option<Ended> = None;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("cannot wait for the program: {e}"))?
        {
            break status;
        }
        if killed.is_none() {
            if trial.stop_requested() {
                let _ = child.kill();
                killed = Some(Ended::Interrupted);
            } else if let (Some(d), Some(t)) = (deadline, timeout) {
                if Instant::now() >= d {
                    let _ = child.kill();
                    killed = Some(Ended::TimedOut(t));
                }
            }
        }
        std::thread::sleep(POLL);
    };
    interrupt::kill_trial(group, dir);
    let out = out_reader.join().ok().flatten().unwrap_or_default();
    let err = err_reader.join().ok().flatten().unwrap_or_default();
    Ok((killed.unwrap_or(Ended::Exited(status)), out, err))
}

/// One of the program's output pipes, read without blocking.
#[cfg(unix)]
struct Pipe {
    /// `None` once it reached its end (or could not be read).
    file: Option<std::fs::File>,
    stream: Stream,
}

#[cfg(unix)]
impl Pipe {
    fn new(fd: Option<std::os::fd::OwnedFd>, scan: bool) -> Pipe {
        use std::os::fd::AsRawFd;
        let file = fd.map(std::fs::File::from);
        if let Some(f) = &file {
            let fd = f.as_raw_fd();
            // SAFETY: fcntl(2) on a descriptor this struct owns; it only
            // changes the descriptor's flags. The read end is ours alone
            // (the program got the write end), so no one else sees it.
            unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFL);
                if flags >= 0 {
                    libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
                }
            }
        }
        Pipe {
            file,
            stream: Stream::new(scan),
        }
    }

    fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// Read what the pipe holds now (a bounded amount, so a program that
    /// writes without pause cannot keep the caller from its clock).
    fn read_ready(&mut self, buf: &mut [u8]) {
        for _ in 0..16 {
            let Some(f) = self.file.as_mut() else {
                return;
            };
            match f.read(buf) {
                Ok(0) => self.file = None,
                Ok(n) => self.stream.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => self.file = None,
            }
        }
    }
}

/// Wait at most `wait` for output on the open pipes and read what came.
#[cfg(unix)]
fn pump(pipes: &mut [Pipe; 2], wait: Duration, buf: &mut [u8]) {
    use std::os::fd::AsRawFd;
    let mut fds: Vec<libc::pollfd> = Vec::with_capacity(2);
    let mut which: Vec<usize> = Vec::with_capacity(2);
    for (i, p) in pipes.iter().enumerate() {
        if let Some(f) = &p.file {
            fds.push(libc::pollfd {
                fd: f.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            which.push(i);
        }
    }
    if fds.is_empty() {
        return;
    }
    // Rounded up, so a short wait does not become a busy loop.
    let ms = libc::c_int::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX);
    // SAFETY: `fds` is a live array of `fds.len()` pollfd structs that
    // poll(2) may write for the duration of the call; the descriptors are
    // owned by `pipes`, which outlives it.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n <= 0 {
        // Nothing yet, or a signal (EINTR): the caller looks at its clock.
        return;
    }
    for (fd, &i) in fds.iter().zip(&which) {
        if fd.revents != 0 {
            pipes[i].read_ready(buf);
        }
    }
}

/// What was read from one output stream, built up as it arrives.
#[derive(Default)]
struct Stream {
    /// The last [`TAIL_BYTES`] bytes.
    tail: Vec<u8>,
    /// The last line that looks like a result (stdout only).
    found: Option<Found>,
    /// Whether lines are looked at (stdout) or only the tail kept.
    scan: bool,
    /// The current line's first [`MAX_LINE`] bytes.
    line: Vec<u8>,
    /// The current line's length, however long.
    line_len: usize,
    /// Whether `{"step": …, "value": …}` lines are intermediate values
    /// (only with a pruner).
    read_steps: bool,
    /// The largest step allowed (`[objective] max_step`).
    max_step: Option<u64>,
    /// The intermediate values read so far, valid and in step order.
    steps: Vec<(u64, f64)>,
    /// Why a step line was refused; no step is read after it.
    step_error: Option<String>,
}

/// Whether the program `pid` has exited (or was reaped), without reaping
/// it: the waiting thread does that.
#[cfg(unix)]
fn exited(pid: u32) -> bool {
    let pid: libc::id_t = pid;
    // SAFETY: siginfo_t is plain data, valid zeroed; waitid only writes it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t; WNOWAIT leaves the
    // child to its waiter.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid filled `info` (or left it zeroed: still running).
    r != 0 || unsafe { info.si_pid() } != 0
}

/// Send SIGTERM to every process of the group `group` (a pruned trial:
/// the program may save what it wants before the SIGKILL).
#[cfg(unix)]
fn terminate_group(group: u32) {
    let Ok(pgid) = libc::pid_t::try_from(group) else {
        return;
    };
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid only sends a signal; it
        // touches no memory of this process.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
    }
}

/// The last line of standard output that looked like a result.
#[derive(Debug)]
enum Found {
    /// A JSON object with a `value` key.
    Result(serde_json::Map<String, serde_json::Value>),
    /// One whose `value` no `f64` holds: `NaN`, `Infinity` (as Python's
    /// `json.dumps` writes them) or a number too large, such as `1e400`;
    /// with the value as written.
    NonFinite(serde_json::Map<String, serde_json::Value>, String),
    /// A line that starts with `{` and names `"value"`, longer than
    /// [`MAX_LINE`]; with its length in bytes.
    TooLong(usize),
}

impl Stream {
    fn new(scan: bool) -> Stream {
        Stream {
            scan,
            ..Stream::default()
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        self.tail.extend_from_slice(chunk);
        if self.tail.len() > 2 * TAIL_BYTES {
            let cut = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..cut);
        }
        if !self.scan {
            return;
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            let (part, ended) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], Some(i + 1)),
                None => (rest, None),
            };
            let room = MAX_LINE.saturating_sub(self.line.len()).min(part.len());
            self.line.extend_from_slice(&part[..room]);
            self.line_len += part.len();
            match ended {
                Some(i) => {
                    self.end_line();
                    rest = &rest[i..];
                }
                None => break,
            }
        }
    }

    fn end_line(&mut self) {
        if self.read_steps && self.line_len <= MAX_LINE {
            if let Some(step) = look_at_step(&self.line) {
                if self.step_error.is_none() {
                    match self.check_step(step) {
                        Ok(s) => self.steps.push(s),
                        Err(e) => self.step_error = Some(e),
                    }
                }
                self.line.clear();
                self.line_len = 0;
                return;
            }
        }
        if self.line_len > MAX_LINE {
            if looks_like_result(&self.line) {
                self.found = Some(Found::TooLong(self.line_len));
            }
        } else if let Some(f) = look_at(&self.line) {
            self.found = Some(f);
        }
        self.line.clear();
        self.line_len = 0;
    }

    /// The stream has ended: look at its last line (even without a
    /// newline) and cut the tail to size.
    fn finish(mut self) -> Stream {
        if self.scan && self.line_len > 0 {
            self.end_line();
        }
        if self.tail.len() > TAIL_BYTES {
            let cut = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..cut);
        }
        self.line = Vec::new();
        self
    }
}

impl Stream {
    /// Check an intermediate value against the ones before it.
    fn check_step(
        &self,
        (step, value): (serde_json::Value, Result<f64, String>),
    ) -> Result<(u64, f64), String> {
        let n = self.steps.len() + 1;
        let s = step.as_u64().ok_or_else(|| {
            format!(
                "intermediate value {n}: the step {step} is not an integer >= 0; print {{\"step\": <0, 1, 2, …>, \"value\": <number>}}"
            )
        })?;
        if let Some(&(last, _)) = self.steps.last() {
            if s <= last {
                return Err(format!(
                    "intermediate value {n}: step {s} after step {last}; steps must strictly increase"
                ));
            }
        }
        if let Some(m) = self.max_step.filter(|&m| s > m) {
            return Err(format!(
                "intermediate value {n}: step {s} is past max_step = {m}; raise [objective] max_step or stop the loop there"
            ));
        }
        let v = value.map_err(|v| {
            format!("intermediate value {n}: the value {v} at step {s} is not a finite number")
        })?;
        Ok((s, v))
    }
}

/// A line that is a JSON object with both `step` and `value`: the step
/// as written and the value (or, when it is not a finite number, its
/// text).
fn look_at_step(line: &[u8]) -> Option<(serde_json::Value, Result<f64, String>)> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if !(text.starts_with('{') && text.ends_with('}') && text.contains("\"step\"")) {
        return None;
    }
    let (map, non_finite) = match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(map)) => (map, None),
        _ => {
            let (patched, value) = patch_non_finite(text);
            match serde_json::from_str(&patched) {
                Ok(serde_json::Value::Object(map)) => (map, value),
                _ => return None,
            }
        }
    };
    let step = map.get("step")?.clone();
    let value = map.get("value")?;
    let value = match (non_finite, value.as_f64()) {
        (Some(v), _) => Err(v),
        (None, Some(v)) if v.is_finite() => Ok(v),
        (None, _) => Err(value.to_string()),
    };
    Some((step, value))
}

/// Read a stream to its end, keeping its tail and (for stdout) the last
/// result line.
#[cfg_attr(unix, allow(dead_code))]
fn read_stream(r: impl Read, scan: bool) -> Stream {
    read_into(r, Stream::new(scan))
}

/// Read a stream to its end into `s`.
#[cfg_attr(unix, allow(dead_code))]
fn read_into(mut r: impl Read, mut s: Stream) -> Stream {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => s.feed(&buf[..n]),
        }
    }
    s.finish()
}

/// Whether a line too long to parse would have been a result: it starts
/// with `{` and names a `"value"` key in its first [`MAX_LINE`] bytes.
fn looks_like_result(head: &[u8]) -> bool {
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && head.windows(7).any(|w| w == b"\"value\"")
}

/// What `line` is, if it is a JSON object with a `value` key.
fn look_at(line: &[u8]) -> Option<Found> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if !(text.starts_with('{') && text.ends_with('}')) {
        return None;
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
        return map.contains_key("value").then_some(Found::Result(map));
    }
    // Python's json.dumps writes NaN and Infinity, which JSON has not, and
    // a number such as 1e400 is JSON that no f64 holds: read them as null,
    // and when it was the value, say which it was.
    let (patched, value) = patch_non_finite(text);
    match serde_json::from_str(&patched) {
        Ok(serde_json::Value::Object(map)) if map.contains_key("value") => Some(match value {
            Some(v) => Found::NonFinite(map, v),
            None => Found::Result(map),
        }),
        _ => None,
    }
}

/// `text` with every `NaN`, `Infinity`, `-Infinity` and number too large
/// for an `f64` outside strings replaced by `null`, and the replaced text
/// of the top-level `value` key, if it was one of them.
fn patch_non_finite(text: &str) -> (String, Option<String>) {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut value = None;
    let mut depth = 0usize;
    // The last string closed at depth 1, and the key whose value follows.
    let mut last_string: Option<&str> = None;
    let mut key: Option<&str> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(b.len());
            if depth == 1 {
                last_string = text.get(i + 1..end);
            }
            let stop = (end + 1).min(b.len());
            out.push_str(text.get(i..stop).unwrap_or_default());
            i = stop;
            continue;
        }
        if c == b'-' || c.is_ascii_alphanumeric() {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b"+-.".contains(&b[j])) {
                j += 1;
            }
            let token = text.get(i..j).unwrap_or_default();
            let number = token
                .bytes()
                .all(|d| d.is_ascii_digit() || b"+-.eE".contains(&d));
            let non_finite = matches!(token, "NaN" | "Infinity" | "-Infinity")
                || (number && token.parse::<f64>().is_ok_and(|v| v.is_infinite()));
            if non_finite {
                out.push_str("null");
                if depth == 1 && key == Some("value") {
                    value = Some(token.to_string());
                }
            } else {
                out.push_str(token);
            }
            i = j.max(i + 1);
            continue;
        }
        match c {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b':' if depth == 1 => key = last_string.take(),
            b',' if depth == 1 => key = None,
            _ => {}
        }
        // `c` is ASCII here (strings and tokens were copied above) or a
        // byte of a character outside both, copied whole.
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    (out, value)
}

/// Turn how the program ended and what it printed into an evaluation.
fn outcome(spec: &CommandSpec, ended: Ended, out: &Stream, err: &Stream) -> Evaluation {
    let extra = match &out.found {
        Some(Found::Result(m) | Found::NonFinite(m, _)) => result_cells(&spec.columns, m),
        _ => vec![String::new(); spec.columns.len() + 1],
    };
    let with_stderr = |what: String| {
        let last = last_lines(&err.tail, ERROR_LINES);
        if last.is_empty() {
            what
        } else {
            format!("{what}; stderr: {last}")
        }
    };
    let mut eval = match ended {
        Ended::Interrupted => Evaluation {
            status: Status::Interrupted,
            value: f64::NAN,
            folds: Vec::new(),
            error: Some("stopped by Ctrl-C".into()),
            extra: Vec::new(),
            steps: Vec::new(),
        },
        Ended::TimedOut(t) => Evaluation {
            status: Status::Timeout,
            value: f64::NAN,
            folds: Vec::new(),
            error: Some(with_stderr(format!("killed after the timeout of {t} s"))),
            extra: Vec::new(),
            steps: Vec::new(),
        },
        // Replaced by `settle_steps`, which knows the step and the error.
        Ended::Pruned => Evaluation::failed("stopped by the pruner".into(), Vec::new()),
        Ended::BadStep => Evaluation::failed("a bad intermediate value".into(), Vec::new()),
        Ended::Exited(status) if !status.success() => {
            Evaluation::failed(with_stderr(exit_text(status)), Vec::new())
        }
        Ended::Exited(_) => match &out.found {
            None => Evaluation::failed(
                with_stderr(
                    "the program printed no result: its last line of JSON with a \"value\" key, e.g. {\"value\": 0.5}"
                        .into(),
                ),
                Vec::new(),
            ),
            Some(Found::TooLong(n)) => Evaluation::failed(
                format!(
                    "the last line with a result was longer than the 1 MiB limit ({n} bytes); print the result on a shorter line"
                ),
                Vec::new(),
            ),
            Some(Found::NonFinite(map, v)) => Evaluation::non_finite_result(&spec.columns, map, v),
            // The extra cells are set below, for every ending.
            Some(Found::Result(map)) => Evaluation::from_result(&spec.columns, map),
        },
    };
    if eval.status != Status::Interrupted {
        eval.extra = extra;
    }
    eval
}

fn exit_text(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("the program exited with status {code}");
    }
    #[cfg(unix)]
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("the program was killed by signal {sig}");
    }
    "the program ended abnormally".into()
}

/// The `trials.csv` cells of a result map (a command's result line, or
/// what an external objective returns, e.g. a Python dict), in the
/// order of [`result_columns`]: the value of each declared column (a
/// number in shortest round-trip form, a string as it is, null or a
/// missing key empty, anything else as JSON), then the other keys but
/// `value` as one compact JSON object with sorted keys in the `extra`
/// cell (empty when there are none). Put them in
/// [`Evaluation::extra`]; `columns` are the search's
/// (`config::Search::result_columns`).
///
/// ```
/// use hpsearch::objective::command::result_cells;
///
/// let result = serde_json::json!({"value": 0.5, "loss": 0.25, "epochs": 3, "note": "ok"});
/// let cells = result_cells(&["loss".to_string()], result.as_object().unwrap());
/// assert_eq!(cells, ["0.25", r#"{"epochs":3,"note":"ok"}"#]);
/// ```
pub fn result_cells(
    columns: &[String],
    m: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    let mut out: Vec<String> = columns
        .iter()
        .map(|c| m.get(c).map(cell).unwrap_or_default())
        .collect();
    let rest: BTreeMap<&String, &serde_json::Value> = m
        .iter()
        .filter(|(k, _)| k.as_str() != "value" && !columns.contains(k))
        .collect();
    out.push(if rest.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&rest).unwrap_or_default()
    });
    out
}

/// One JSON value as a CSV cell: numbers in shortest round-trip form,
/// strings as they are, anything else as JSON.
fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => fmt_f64(f),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The last `n` non-empty lines of `bytes`, joined by " | ", at most 500
/// characters (the end kept).
fn last_lines(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let joined = lines[lines.len().saturating_sub(n)..].join(" | ");
    let chars: Vec<char> = joined.chars().collect();
    if chars.len() > 500 {
        let tail: String = chars[chars.len() - 500..].iter().collect();
        format!("…{tail}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(text: &str) -> Stream {
        read_stream(text.as_bytes(), true)
    }

    impl Stream {
        fn result(self) -> Option<serde_json::Map<String, serde_json::Value>> {
            match self.found {
                Some(Found::Result(m)) => Some(m),
                _ => None,
            }
        }
    }

    fn stepped(text: &str, max_step: Option<u64>) -> Stream {
        let mut s = Stream::new(true);
        s.read_steps = true;
        s.max_step = max_step;
        read_into(text.as_bytes(), s)
    }

    #[test]
    fn step_lines_are_intermediate_values_never_the_result() {
        let s = stepped(
            "{\"step\": 0, \"value\": 0.5}\nnoise\n{\"step\": 2, \"value\": 0.25, \"lr\": 1}\n{\"value\": 0.2}\n{\"step\": 3, \"value\": 0.1}\n",
            None,
        );
        assert_eq!(s.steps, vec![(0, 0.5), (2, 0.25), (3, 0.1)]);
        assert!(s.step_error.is_none());
        assert_eq!(s.result().unwrap()["value"], serde_json::json!(0.2));
        // Without a pruner a step line is a result line, as before.
        let plain = stream("{\"step\": 3, \"value\": 0.1}\n");
        assert!(plain.steps.is_empty());
        assert_eq!(plain.result().unwrap()["value"], serde_json::json!(0.1));
    }

    #[test]
    fn the_first_bad_step_line_is_the_error_and_ends_reading_steps() {
        let s = stepped(
            "{\"step\": 1, \"value\": 1}\n{\"step\": -1, \"value\": 1}\n{\"step\": 2, \"value\": 1}\n",
            None,
        );
        assert_eq!(s.steps, vec![(1, 1.0)]);
        assert!(s
            .step_error
            .as_deref()
            .unwrap()
            .contains("intermediate value 2: the step -1 is not an integer >= 0"));
        let s = stepped("{\"step\": 0, \"value\": Infinity}\n", None);
        assert!(s
            .step_error
            .as_deref()
            .unwrap()
            .contains("the value Infinity at step 0 is not a finite number"));
        let s = stepped(
            "{\"step\": 0, \"value\": 1}\n{\"step\": 0, \"value\": 1}\n",
            None,
        );
        assert!(s
            .step_error
            .as_deref()
            .unwrap()
            .contains("step 0 after step 0"));
        let s = stepped("{\"step\": 5, \"value\": 1}\n", Some(4));
        assert!(s
            .step_error
            .as_deref()
            .unwrap()
            .contains("past max_step = 4"));
    }

    #[test]
    fn the_record_is_the_settled_decision_whatever_was_read_late() {
        // The program printed five values before anyone looked; the pruner
        // stops at the third, so the later two are dropped.
        let out = stepped(
            &(0..5)
                .map(|s| format!("{{\"step\": {s}, \"value\": {s}.5}}\n"))
                .collect::<String>(),
            None,
        );
        let judge = |v: &[(u64, f64)]| v.len() >= 3;
        let steps = Steps {
            prune: &judge,
            grace: 1.0,
            max_step: None,
        };
        let mut eval = Evaluation::ok(9.0, Vec::new());
        settle_steps(&mut eval, &out, &steps);
        assert_eq!(eval.status, Status::Pruned);
        assert_eq!(eval.steps, vec![(0, 0.5), (1, 1.5), (2, 2.5)]);
        assert_eq!(eval.value, 2.5);
        assert_eq!(eval.error.as_deref(), Some("pruned at step 2"));
        let never = |_: &[(u64, f64)]| false;
        let steps = Steps {
            prune: &never,
            grace: 1.0,
            max_step: None,
        };
        let mut eval = Evaluation::ok(9.0, Vec::new());
        settle_steps(&mut eval, &out, &steps);
        assert_eq!(
            (eval.status, eval.value, eval.steps.len()),
            (Status::Ok, 9.0, 5)
        );
    }

    #[test]
    fn the_last_json_line_with_a_value_is_the_result() {
        let s = stream(
            "epoch 1\n{\"value\": 1.5}\n{\"loss\": 2}\n{\"value\": 0.25, \"acc\": 0.9}\nbye\n",
        );
        let m = s.result().unwrap();
        assert_eq!(m["value"].as_f64(), Some(0.25));
        assert_eq!(m["acc"].as_f64(), Some(0.9));
        // No trailing newline: the last line still counts.
        let s = stream("x\n  {\"value\": 3}  ");
        assert_eq!(s.result().unwrap()["value"].as_i64(), Some(3));
        assert!(stream("{\"loss\": 1}\nvalue: 3\n").found.is_none());
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let mut s = Stream::new(true);
        for piece in ["epo", "ch 1\n{\"val", "ue\": 0.", "5}", "\nbye"] {
            s.feed(piece.as_bytes());
        }
        assert_eq!(s.finish().result().unwrap()["value"].as_f64(), Some(0.5));
    }

    #[test]
    fn python_nan_is_a_non_finite_result() {
        let s = stream("{\"value\": NaN, \"a\": 1}\n");
        assert!(matches!(s.found, Some(Found::NonFinite(_, ref v)) if v == "NaN"));
        let s = stream("{\"value\": NaN}\n{\"value\": 2.0}\n");
        assert_eq!(s.result().unwrap()["value"].as_f64(), Some(2.0));
        let s = stream("{\"value\": -Infinity}\n");
        assert!(matches!(s.found, Some(Found::NonFinite(_, ref v)) if v == "-Infinity"));
    }

    #[test]
    fn a_value_too_large_for_a_float_is_named_as_written() {
        let s = stream("{\"value\": 1e400, \"note\": \"NaN 1e400\"}\n");
        let Some(Found::NonFinite(m, v)) = s.found else {
            panic!("not a non-finite result");
        };
        assert_eq!(v, "1e400");
        // Strings are left alone.
        assert_eq!(m["note"], "NaN 1e400");
        assert!(m["value"].is_null());
        let s = stream("{\"value\": -2E+308}\n");
        assert!(matches!(s.found, Some(Found::NonFinite(_, ref v)) if v == "-2E+308"));
    }

    #[test]
    fn a_non_finite_key_other_than_value_is_kept_as_null() {
        let m =
            stream("{\"big\": 1e999, \"value\": 0.5, \"loss\": NaN, \"h\": {\"value\": NaN}}\n")
                .result()
                .unwrap();
        assert_eq!(m["value"].as_f64(), Some(0.5));
        assert!(m["big"].is_null() && m["loss"].is_null() && m["h"]["value"].is_null());
    }

    #[test]
    fn a_result_line_over_the_limit_is_reported_with_its_length() {
        let long = format!("{{\"value\": 1, \"blob\": \"{}\"}}", "x".repeat(MAX_LINE));
        let s = stream(&format!("{{\"value\": 2}}\n{long}\n"));
        assert!(matches!(s.found, Some(Found::TooLong(n)) if n == long.len()));
        // A later result wins; a long line that is no result is output.
        let s = stream(&format!("{long}\n{{\"value\": 2}}\n"));
        assert_eq!(s.result().unwrap()["value"].as_i64(), Some(2));
        let s = stream(&format!("{{\"value\": 2}}\n{}\n", "y".repeat(MAX_LINE + 5)));
        assert_eq!(s.result().unwrap()["value"].as_i64(), Some(2));
        // Exactly at the limit is still a line to parse.
        let at = format!("{{\"value\": 3, \"b\": \"{}\"}}", "x".repeat(MAX_LINE - 21));
        assert_eq!(at.len(), MAX_LINE);
        assert_eq!(stream(&at).result().unwrap()["value"].as_i64(), Some(3));
    }

    #[test]
    fn the_tail_is_bounded_and_keeps_the_end() {
        let mut text = "a".repeat(3 * TAIL_BYTES);
        text.push_str("END");
        let s = read_stream(text.as_bytes(), false);
        assert_eq!(s.tail.len(), TAIL_BYTES);
        assert!(s.tail.ends_with(b"END"));
    }

    #[test]
    fn floats_keep_their_bits_in_cells_and_extra_json() {
        let line = r#"{"value": 1, "lr": 0.1, "n": 7, "name": "x", "hist": [1.5, 2], "z": 0.30000000000000004}"#;
        let m = stream(line).result().unwrap();
        let v = result_cells(&["lr".into(), "n".into(), "missing".into()], &m);
        assert_eq!(v[0], "0.1");
        assert_eq!(v[1], "7");
        assert_eq!(v[2], "");
        assert_eq!(
            v[3],
            r#"{"hist":[1.5,2],"name":"x","z":0.30000000000000004}"#
        );
    }

    #[test]
    fn error_text_keeps_the_last_lines() {
        assert_eq!(last_lines(b"a\n\nb\nc\n", 2), "b | c");
        assert_eq!(last_lines(b"", 2), "");
        let long = "x".repeat(800);
        assert_eq!(last_lines(long.as_bytes(), 1).chars().count(), 501);
    }

    #[test]
    fn env_names_are_upper_case() {
        assert_eq!(env_name("learning_rate"), "HPSEARCH_PARAM_LEARNING_RATE");
    }
}
