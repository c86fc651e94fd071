//! Any program as the objective: `[objective] command = ["python3", "train.py"]`.
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
//! as a JSON object, in the `extra` column. The trial **fails** when the
//! program exits with a non-zero status (or a signal), when no such line
//! was printed, or when `value` is not a finite number (`NaN` included);
//! the last lines of standard error go into the `error` column. The last
//! 64 KiB of each stream are kept in `stdout.log` and `stderr.log` in the
//! trial's folder, however much the program writes.
//!
//! With `timeout = <seconds>`, a trial still running then is killed with
//! its whole process group (SIGKILL) and recorded as `timeout`. When the
//! program exits, whatever it left running in its group is killed too, so
//! no trial leaks processes into the next one.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Evaluation, Objective, Status, TrialInfo};
use crate::config::CommandSpec;
use crate::interrupt;
use crate::value::{fmt_f64, Params};

/// How much of each output stream is kept in the trial's folder.
const TAIL_BYTES: usize = 64 * 1024;
/// How many lines of standard error go into the `error` column.
const ERROR_LINES: usize = 5;
/// The longest stdout line considered as a result; longer ones are output.
const MAX_LINE: usize = 1 << 20;
/// How often a waiting trial looks at Ctrl-C.
const POLL: Duration = Duration::from_millis(50);

/// The name of the column holding the result keys not given a column.
pub const EXTRA_COLUMN: &str = "extra";

/// A program evaluated once per trial.
pub struct CommandObjective {
    spec: CommandSpec,
}

impl CommandObjective {
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

/// The environment variable that carries parameter `name`.
pub fn env_name(name: &str) -> String {
    format!("HPSEARCH_PARAM_{}", name.to_ascii_uppercase())
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
        .env("HPSEARCH_TRIAL_DIR", dir);
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

    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", spec.program.display()))?;
    let group = child.id();
    interrupt::register(group);
    let ended = supervise(child, group, spec.timeout);
    interrupt::unregister(group);
    let (status, out, err) = ended?;

    // Keep the tails for the user; a failure to write them is not the
    // trial's failure.
    let _ = std::fs::write(dir.join("stdout.log"), &out.tail);
    let _ = std::fs::write(dir.join("stderr.log"), &err.tail);
    Ok(outcome(spec, status, &out, &err))
}

/// How the program ended.
enum Ended {
    Exited(ExitStatus),
    TimedOut(f64),
    Interrupted,
}

/// Wait for `child` while reading its output, enforcing the timeout and
/// Ctrl-C; then kill whatever is left in its group and collect the output.
///
/// Why a waiting thread rather than polling: a blocking `wait` returns the
/// moment the program exits, however loaded the machine, so a quick
/// program costs little more than starting it.
fn supervise(
    mut child: Child,
    group: u32,
    timeout: Option<f64>,
) -> Result<(Ended, Stream, Stream), String> {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || stdout.map(|s| read_stream(s, true)));
    let err_reader = std::thread::spawn(move || stderr.map(|s| read_stream(s, false)));
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t));
    let mut killed: Option<Ended> = None;
    loop {
        let slice = match deadline {
            Some(d) if killed.is_none() => d.saturating_duration_since(Instant::now()).min(POLL),
            _ => POLL,
        };
        match rx.recv_timeout(slice) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if killed.is_some() {
            continue;
        }
        if interrupt::requested() {
            interrupt::kill_group(group);
            killed = Some(Ended::Interrupted);
        } else if let (Some(d), Some(t)) = (deadline, timeout) {
            if Instant::now() >= d {
                interrupt::kill_group(group);
                killed = Some(Ended::TimedOut(t));
            }
        }
    }
    let status = waiter
        .join()
        .map_err(|_| "the thread waiting for the program failed".to_string())?
        .map_err(|e| format!("cannot wait for the program: {e}"))?;
    // Whatever the program started and left behind dies with it; this
    // also closes the pipes those processes held, so the readers finish.
    interrupt::kill_group(group);
    let out = out_reader.join().ok().flatten().unwrap_or_default();
    let err = err_reader.join().ok().flatten().unwrap_or_default();
    Ok((killed.unwrap_or(Ended::Exited(status)), out, err))
}

/// What was read from one output stream.
#[derive(Default)]
struct Stream {
    /// The last [`TAIL_BYTES`] bytes.
    tail: Vec<u8>,
    /// The last line that is a JSON object with a `value` key (stdout only).
    result: Option<serde_json::Map<String, serde_json::Value>>,
    /// Whether the result line had a `value` that JSON cannot hold (NaN,
    /// Infinity), and it was the last candidate.
    non_finite: bool,
}

/// Read a stream to its end, keeping its tail and (for stdout) the last
/// result line.
fn read_stream(mut r: impl Read, scan: bool) -> Stream {
    let mut s = Stream::default();
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        s.tail.extend_from_slice(chunk);
        if s.tail.len() > 2 * TAIL_BYTES {
            let cut = s.tail.len() - TAIL_BYTES;
            s.tail.drain(..cut);
        }
        if !scan {
            continue;
        }
        for &b in chunk {
            if b == b'\n' {
                if !too_long {
                    look_at(&mut s, &line);
                }
                line.clear();
                too_long = false;
            } else if !too_long {
                line.push(b);
                if line.len() > MAX_LINE {
                    too_long = true;
                    line.clear();
                }
            }
        }
    }
    if scan && !too_long && !line.is_empty() {
        look_at(&mut s, &line);
    }
    if s.tail.len() > TAIL_BYTES {
        let cut = s.tail.len() - TAIL_BYTES;
        s.tail.drain(..cut);
    }
    s
}

/// Take `line` as the result if it is a JSON object with a `value` key.
fn look_at(s: &mut Stream, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if !(text.starts_with('{') && text.ends_with('}')) {
        return;
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
        if map.contains_key("value") {
            s.result = Some(map);
            s.non_finite = false;
        }
        return;
    }
    // Python's json.dumps writes NaN and Infinity, which JSON has not: a
    // result line with such a value is a result that is not finite.
    let patched = text
        .replace("-Infinity", "null")
        .replace("Infinity", "null")
        .replace("NaN", "null");
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&patched) {
        if map.get("value").is_some_and(|v| v.is_null()) {
            s.result = Some(map);
            s.non_finite = true;
        }
    }
}

/// Turn how the program ended and what it printed into an evaluation.
fn outcome(spec: &CommandSpec, ended: Ended, out: &Stream, err: &Stream) -> Evaluation {
    let extra = out
        .result
        .as_ref()
        .map(|m| extra_values(&spec.columns, m))
        .unwrap_or_else(|| vec![String::new(); spec.columns.len() + 1]);
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
        },
        Ended::TimedOut(t) => Evaluation {
            status: Status::Timeout,
            value: f64::NAN,
            folds: Vec::new(),
            error: Some(with_stderr(format!("killed after the timeout of {t} s"))),
            extra: Vec::new(),
        },
        Ended::Exited(status) if !status.success() => {
            Evaluation::failed(with_stderr(exit_text(status)), Vec::new())
        }
        Ended::Exited(_) => match &out.result {
            None => Evaluation::failed(
                with_stderr(
                    "the program printed no result: its last line of JSON with a \"value\" key, e.g. {\"value\": 0.5}"
                        .into(),
                ),
                Vec::new(),
            ),
            Some(_) if out.non_finite => {
                Evaluation::failed("the result's value is not finite (NaN or Infinity)".into(), Vec::new())
            }
            Some(map) => match map.get("value").and_then(|v| v.as_f64()) {
                Some(v) => Evaluation::ok(v, Vec::new()),
                None => Evaluation::failed(
                    format!(
                        "the result's value is not a number: {}",
                        map.get("value").map(|v| v.to_string()).unwrap_or_default()
                    ),
                    Vec::new(),
                ),
            },
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

/// The values of the declared `columns`, then the other keys (not
/// `value`) as one JSON object, keys sorted; empty when there are none.
fn extra_values(columns: &[String], m: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
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

/// Resolve the program of a command: a name with a `/` is a path relative
/// to `cwd`; a bare name is looked up on `PATH`. `None` when there is no
/// such executable file.
pub fn resolve_program(name: &str, cwd: &Path) -> Option<PathBuf> {
    if name.contains('/') {
        let p = cwd.join(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
        // Why keep the bare name: the OS resolves it the same way at spawn,
        // and the manifest should say what the user wrote.
        .map(|_| PathBuf::from(name))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(text: &str) -> Stream {
        read_stream(text.as_bytes(), true)
    }

    #[test]
    fn the_last_json_line_with_a_value_is_the_result() {
        let s = stream(
            "epoch 1\n{\"value\": 1.5}\n{\"loss\": 2}\n{\"value\": 0.25, \"acc\": 0.9}\nbye\n",
        );
        let m = s.result.unwrap();
        assert_eq!(m["value"].as_f64(), Some(0.25));
        assert_eq!(m["acc"].as_f64(), Some(0.9));
        // No trailing newline: the last line still counts.
        let s = stream("x\n  {\"value\": 3}  ");
        assert_eq!(s.result.unwrap()["value"].as_i64(), Some(3));
        assert!(stream("{\"loss\": 1}\nvalue: 3\n").result.is_none());
    }

    #[test]
    fn python_nan_is_a_non_finite_result() {
        let s = stream("{\"value\": NaN, \"a\": 1}\n");
        assert!(s.non_finite);
        let s = stream("{\"value\": NaN}\n{\"value\": 2.0}\n");
        assert!(!s.non_finite);
        assert_eq!(s.result.unwrap()["value"].as_f64(), Some(2.0));
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
        let m = stream(line).result.unwrap();
        let v = extra_values(&["lr".into(), "n".into(), "missing".into()], &m);
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
