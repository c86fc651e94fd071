//! The command line: arguments, progress, printing and exit codes.
//!
//! # Exit codes
//!
//! * 0 — success (including a search that was already finished);
//! * 1 — a run that failed (an I/O error while writing results, or no
//!   trial succeeded);
//! * 2 — bad input or usage: an invalid search file or data file, or a
//!   results folder that belongs to another search. Nothing is written.
//! * 3 — `drift` (or `predict --check-drift`) found drift at the alert
//!   level; the report (and the predictions) are still written.
//! * 130 — `run` stopped by Ctrl-C (or SIGTERM); run it again to resume.
//!   A stop is what the user asked for, so it is printed as `stopped: …`,
//!   every other failure as `error: …` ([`Failure::label`]).
//!
//! A command search that stops after `max_failures` failed trials in a row
//! exits 1.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use hpsearch::config::{self, Direction, Search};
use hpsearch::engine;
use hpsearch::interrupt::StopToken;
use hpsearch::journal::{self, Row};
use hpsearch::objective::{models, Status};
use hpsearch::search::Outcome;

/// Reproducible hyperparameter search: the same search file and data give
/// the same trials and scores, bit for bit, for any thread count.
#[derive(Debug, Parser)]
#[command(name = "hpsearch", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a search and print the best trial.
    ///
    /// Results go to `results/<search file stem>/` (or --out): manifest.toml,
    /// trials.csv and timings.csv. Running a finished search again prints
    /// its summary and changes nothing; an unfinished one resumes. Ctrl-C
    /// stops cleanly (exit 130): run the same command again to resume.
    Run {
        /// The search file (TOML).
        file: PathBuf,
        /// Worker threads (default: all cores). Never changes a result.
        #[arg(long, short = 'j')]
        threads: Option<usize>,
        /// The results folder (default: `results/<search file stem>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Run as one worker of a search shared through a database
        /// (postgresql://user@host:port/db; also HPSEARCH_STORAGE). Any
        /// number of workers on any machines run the same search; each
        /// writes the whole results folder when the budget is done.
        #[arg(long)]
        storage: Option<String>,
        /// With --storage: the name the search is stored under (default:
        /// the search file's stem). Another search under the same name is
        /// refused, so give two searches whose files share a stem each
        /// their own name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Write a search's results folder from its database (`run --storage`).
    ///
    /// trials.csv is the one a single machine writes. A folder holding a prefix of the same search is extended; one with
    /// another search is refused. An unfinished search gives an
    /// unfinished folder (pull again later, or `run` it to resume).
    Pull {
        /// The search file (TOML), as the workers ran it.
        file: PathBuf,
        /// The database (also HPSEARCH_STORAGE).
        #[arg(long)]
        storage: Option<String>,
        /// The results folder (default: `results/<search file stem>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The name the workers stored it under (`run --name`).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the searches in a database, their progress and live workers.
    Status {
        /// Only this search (its file, as the workers ran it).
        file: Option<PathBuf>,
        /// The database (also HPSEARCH_STORAGE).
        #[arg(long)]
        storage: Option<String>,
    },
    /// Validate a search file and print the resolved search without running it.
    Check {
        /// The search file (TOML).
        file: PathBuf,
    },
    /// Retrain a recorded trial and compare its scores with the journal, bit for bit.
    ///
    /// Needs only the results folder and the data file (the manifest's path,
    /// or --data). Exit 0 when every score is identical, 1 with the first
    /// difference, 2 when the data changed or the folder cannot be read.
    Replay {
        /// The results folder.
        dir: PathBuf,
        /// The trial to replay (default: the best).
        #[arg(long)]
        trial: Option<u64>,
        /// The data file, if it moved since the search ran (it must have the
        /// same SHA-256).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Refit a trial (default: the best) on all the data with its seed and
    /// write a self-describing model artifact (JSON).
    ///
    /// Exporting twice gives byte-identical files. The format is documented
    /// on `hpsearch::replay::Artifact`.
    Export {
        /// The results folder.
        dir: PathBuf,
        /// The trial to export (default: the best).
        #[arg(long)]
        trial: Option<u64>,
        /// Where to write the artifact.
        #[arg(long)]
        out: PathBuf,
        /// The data file, if it moved since the search ran (same SHA-256).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Predict the rows of a CSV file with an exported model.
    ///
    /// Columns are matched by name (any order); a column the model reads
    /// must be there, the target column may be and is ignored, any other
    /// column is an error unless kept (--keep). Writes `prediction` and, for classifiers with
    /// probabilities, `proba_<class>` columns.
    ///
    /// With --check-drift, the rows are first checked for drift as `hpsearch
    /// drift` does, and the report is written as JSON beside the
    /// predictions (`--out preds.csv` gives `preds.drift.json`; --out is
    /// then required). The predictions are written even when drift alerts;
    /// the exit code is 3 then.
    Predict {
        /// The model artifact written by `hpsearch export`.
        model: PathBuf,
        /// The rows to predict (CSV with a header).
        data: PathBuf,
        /// Write the predictions here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Check the rows for drift first; write the report beside --out.
        #[arg(long)]
        check_drift: bool,
        /// Pass this input column through to the output (an ID, say), as
        /// a first column; repeat for several (written in the order they have
        /// in the input).
        /// A kept column need not be one the model knows.
        #[arg(long, value_name = "COL")]
        keep: Vec<String>,
    },
    /// Check new data for drift against the training-data profile an
    /// exported model carries, column by column and for its predictions.
    ///
    /// Streams the CSV file (memory does not grow with its rows). Per
    /// column: PSI (10 equal-mass bins), KS (numeric) or chi-square
    /// (categorical), the change of the missing fraction and the share of
    /// values outside the training range (or of unseen levels). A check
    /// warns when its effect reaches the warn level and p < 0.05/K, and
    /// alerts at the alert level with p < 0.01/K (K: the number of checks,
    /// 4 per column and 4 for the predictions): PSI 0.1 / 0.25, KS D and
    /// Cramér's V 0.05 / 0.1, |missing Δ| 0.02 / 0.05, outside share
    /// 1 % / 5 % (docs/drift.md). The table is sorted by severity, then PSI.
    /// Columns follow predict's rules. Exit 0 when nothing alerts, 3 when
    /// something does, 2 on bad input (nothing checked).
    Drift {
        /// The model artifact written by `hpsearch export` (format 2 or later).
        model: PathBuf,
        /// The new rows (CSV with a header).
        data: PathBuf,
        /// text or json.
        #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
        format: DriftFormat,
    },
    /// List the built-in models, their tasks and tunable hyperparameters.
    Models,
    /// Show a search at a glance: strategy, budget, trials done and failed,
    /// root hash, data files and their hashes, start and end, the best trial
    /// with its fold scores, and the top trials.
    Show {
        /// The results folder.
        dir: PathBuf,
        /// How many of the best trials to list (0: all).
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// text, json, or csv (one row per top trial, the search's facts on
        /// every row; pandas reads it directly).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// One line per search in a folder of results: name, strategy, trials
    /// done of the budget (and how many failed, timed out or were pruned),
    /// best value, status, last change (the newest file
    /// modification time), the most recent first.
    List {
        /// The folder holding results folders (default: results).
        dir: Option<PathBuf>,
    },
    /// Compare searches side by side: a table of their best value and
    /// parameters and the best so far at 10, 25, 50 and 100 % of the
    /// budget, then what differs in the resolved searches (a setting that
    /// differs for several parameters on one line; --verbose, json and csv
    /// give every key).
    Compare {
        /// Two or more results folders.
        #[arg(num_args = 2.., required = true)]
        dirs: Vec<PathBuf>,
        /// text, json, or csv (one row a search).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// List every differing key of the resolved searches on its own
        /// line (text).
        #[arg(long, short)]
        verbose: bool,
    },
    /// Write one self-contained HTML report (SVG plots, no network) for one
    /// or more searches: history, parallel coordinates, slices, fold spread
    /// and parameter importance (fANOVA).
    Report {
        /// One or more results folders.
        #[arg(num_args = 1.., required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the HTML file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    /// A run stopped by Ctrl-C or SIGTERM (exit 130): not an error, and
    /// the message says how to resume.
    fn stopped(message: String) -> Failure {
        Failure {
            code: hpsearch::interrupt::EXIT_INTERRUPTED,
            message,
        }
    }

    /// What the message is printed after: `stopped` for a stop (exit
    /// 130), which is what the user asked for, `error` for anything else.
    pub fn label(&self) -> &'static str {
        if self.code == hpsearch::interrupt::EXIT_INTERRUPTED {
            "stopped"
        } else {
            "error"
        }
    }
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure {
        code: 2,
        message: e.to_string(),
    }
}

fn failed(e: impl std::fmt::Display) -> Failure {
    Failure {
        code: 1,
        message: e.to_string(),
    }
}

/// Run a parsed command line.
pub fn execute(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run {
            file,
            threads,
            out,
            quiet,
            storage,
            name,
        } => run(
            &file,
            threads,
            out,
            quiet,
            storage_url(storage),
            name,
            false,
        ),
        Command::Pull {
            file,
            storage,
            out,
            name,
        } => match storage_url(storage) {
            Some(url) => run(&file, Some(1), out, true, Some(url), name, true),
            None => Err(usage(
                "pull needs --storage postgresql://user@host:port/db (or HPSEARCH_STORAGE)",
            )),
        },
        Command::Status { file, storage } => match storage_url(storage) {
            Some(url) => {
                let target = hpsearch::storage::Target::parse(&url).map_err(storage_failure)?;
                let root = match file {
                    Some(f) => Some(
                        config::load(&f, hpsearch::objective::models::MODELS)
                            .map_err(usage)?
                            .search
                            .root()
                            .hex(),
                    ),
                    None => None,
                };
                out(&hpsearch::storage::status(&target, root.as_deref())
                    .map_err(storage_failure)?);
                Ok(())
            }
            None => Err(usage(
                "status needs --storage postgresql://user@host:port/db (or HPSEARCH_STORAGE)",
            )),
        },
        Command::Check { file } => check(&file),
        Command::Replay { dir, trial, data } => replay(&dir, trial, data.as_deref()),
        Command::Export {
            dir,
            trial,
            out,
            data,
        } => export(&dir, trial, &out, data.as_deref()),
        Command::Predict {
            model,
            data,
            out,
            check_drift,
            keep,
        } => predict(&model, &data, out.as_deref(), check_drift, &keep),
        Command::Drift {
            model,
            data,
            format,
        } => drift(&model, &data, format),
        Command::Models => {
            out(&models_text());
            Ok(())
        }
        Command::Show { dir, top, format } => show(&dir, top, format),
        Command::List { dir } => list(dir.as_deref()),
        Command::Compare {
            dirs,
            format,
            verbose,
        } => compare(&dirs, format, verbose),
        Command::Report { dirs, out } => report(&dirs, &out),
    }
}

fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "search".into());
    Path::new("results").join(stem)
}

/// `--storage`, or `HPSEARCH_STORAGE` when it is not given.
fn storage_url(given: Option<String>) -> Option<String> {
    given.or_else(|| {
        std::env::var("HPSEARCH_STORAGE")
            .ok()
            .filter(|s| !s.is_empty())
    })
}

fn storage_failure(e: hpsearch::storage::StorageError) -> Failure {
    use hpsearch::storage::StorageError;
    match e {
        StorageError::Input(m) => usage(m),
        StorageError::Failed(m) => failed(m),
        StorageError::Search(e) => failed(e),
    }
}

/// `run`, as one worker of a shared search when `storage` is given, or
/// (`pull`) only copying the committed trials from the database: the
/// engine runs it ([`hpsearch::engine::Search::run`]); this prints.
fn run(
    file: &Path,
    threads: Option<usize>,
    out: Option<PathBuf>,
    quiet: bool,
    storage: Option<String>,
    name: Option<String>,
    pull: bool,
) -> Result<(), Failure> {
    if name.is_some() && storage.is_none() {
        return Err(usage(
            "--name names a search in a database: it needs --storage (or HPSEARCH_STORAGE)",
        ));
    }
    // The URL is checked before anything else reads input.
    let target = storage
        .as_deref()
        .map(|url| hpsearch::storage::Target::parse(url)?.named(name))
        .transpose()
        .map_err(storage_failure)?;
    if threads == Some(0) {
        return Err(usage("--threads must be at least 1"));
    }
    // Everything that can reject the input happens before the folder is
    // touched: preparing the folds reads and checks the data.
    let search = engine::Search::from_file(file).map_err(engine_failure)?;
    let dir = out.unwrap_or_else(|| default_out(file));
    let stop = StopToken::new();
    if let Err(e) = hpsearch::interrupt::install(&stop) {
        eprintln!("warning: {e}");
    }
    let mut progress = Progress {
        bar: progress(search.budget(), quiet),
        tally: Tally::default(),
        direction: search.spec().direction,
        dir: dir.clone(),
    };
    let ran = search.run(
        &dir,
        engine::RunOptions {
            threads: if pull { Some(1) } else { threads },
            stop,
            observer: Some(&mut progress),
            storage: target.as_ref(),
            pull,
        },
    );
    progress.bar.finish_and_clear();
    let done = ran.map_err(engine_failure)?;
    match done.ending {
        engine::Ending::AlreadyComplete => {
            eprintln!("{}: already finished; nothing to do.", dir.display());
        }
        engine::Ending::Partial { committed } => {
            eprintln!(
                "{}: {committed} of {} trials are committed in the database so far; \
                 pull again later (or run the search to help finish it)",
                dir.display(),
                search.budget()
            );
            return Ok(());
        }
        engine::Ending::Complete => {}
    }
    print_summary(search.spec(), &done.rows, &dir);
    if done.ending == engine::Ending::Complete && engine::none_succeeded(&done.rows) {
        return Err(failed(
            "no trial succeeded; see the error column of trials.csv",
        ));
    }
    Ok(())
}

fn engine_failure(e: engine::Error) -> Failure {
    match e {
        engine::Error::Input(m) => usage(m),
        engine::Error::Failed(m) => failed(m),
        engine::Error::Stopped { dir, committed } => Failure::stopped(format!(
            "{}: interrupted with {committed} trials in the journal; \
             run the same command again to resume",
            dir.display()
        )),
    }
}

/// The progress bar, fed by the engine.
struct Progress {
    bar: ProgressBar,
    tally: Tally,
    direction: Direction,
    dir: PathBuf,
}

impl engine::Observer for Progress {
    fn start(&mut self, recorded: &[Row], budget: u64, resumed: bool) {
        if resumed {
            // Above the bar, not through it.
            self.bar.suspend(|| {
                eprintln!(
                    "{}: resuming at trial {} of {budget}",
                    self.dir.display(),
                    recorded.len()
                )
            });
        }
        self.bar.set_position(recorded.len() as u64);
        self.tally = Tally {
            best: journal::best_row(self.direction, recorded).and_then(|r| r.value),
            failed: count(recorded, Status::Failed),
            timed_out: count(recorded, Status::Timeout),
            pruned: count(recorded, Status::Pruned),
        };
        self.bar.set_message(self.tally.message());
    }

    fn committed(&mut self, o: &Outcome) {
        // Why only on a change: this runs for every trial, up to 100,000
        // a second for a function, and formatting is not free.
        let t = &mut self.tally;
        let changed = match o.eval.status {
            Status::Ok
                if t.best
                    .is_none_or(|b| self.direction.better(o.eval.value, b)) =>
            {
                t.best = Some(o.eval.value);
                true
            }
            Status::Failed => {
                t.failed += 1;
                true
            }
            Status::Timeout => {
                t.timed_out += 1;
                true
            }
            Status::Pruned => {
                t.pruned += 1;
                true
            }
            _ => false,
        };
        if changed {
            self.bar.set_message(self.tally.message());
        }
        self.bar.inc(1);
    }
}

fn count(rows: &[Row], status: Status) -> usize {
    rows.iter().filter(|r| r.status == status).count()
}

/// What the progress bar says beside the count: the best value so far and
/// how many trials failed or timed out (only when there are any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// The best value so far.
    pub best: Option<f64>,
    /// Trials that failed.
    pub failed: usize,
    /// Trials killed at their time-out.
    pub timed_out: usize,
    /// Trials stopped early by the pruner.
    pub pruned: usize,
}

impl Tally {
    /// `best 0.982425, 3 failed, 1 timed out`: the value to 6 significant
    /// digits (the files keep every bit), the counts when not zero.
    pub fn message(&self) -> String {
        let mut parts = Vec::new();
        if let Some(b) = self.best {
            parts.push(format!("best {}", hpsearch::inspect::fmt_sig(b, 6)));
        }
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        if self.timed_out > 0 {
            parts.push(format!("{} timed out", self.timed_out));
        }
        if self.pruned > 0 {
            parts.push(format!("{} pruned", self.pruned));
        }
        parts.join(", ")
    }
}

/// Install the Ctrl-C handler (see `interrupt`) for `stop`: command
/// trials run in their own process groups, so without it Ctrl-C would
/// leave them running.
fn stop_on_ctrl_c() -> StopToken {
    let stop = StopToken::new();
    if let Err(e) = hpsearch::interrupt::install(&stop) {
        eprintln!("warning: {e}");
    }
    stop
}

fn replay(dir: &Path, trial: Option<u64>, data: Option<&Path>) -> Result<(), Failure> {
    let rec = hpsearch::replay::open(dir, data).map_err(usage)?;
    let metric = rec.search.metric_name().to_string();
    let stop = stop_on_ctrl_c();
    let r = hpsearch::replay::replay(rec, trial, &stop).map_err(usage)?;
    if r.evaluation.status == Status::Interrupted {
        return Err(Failure::stopped(format!(
            "trial {}: replay interrupted; run the same command again to replay it",
            r.trial
        )));
    }
    match r.difference {
        None => {
            let folds = match r.evaluation.folds.len() {
                0 => String::new(),
                n => format!(" and {n} fold scores"),
            };
            out(&format!(
                "trial {}: replayed; {} = {}{folds} identical to the journal, bit for bit\n",
                r.trial,
                metric,
                hpsearch::value::fmt_f64(r.evaluation.value),
            ));
            if !r.skipped.is_empty() {
                out(&format!(
                    "not compared (volatile): {}\n",
                    r.skipped.join(", ")
                ));
            }
            Ok(())
        }
        Some(d) => Err(failed(format!(
            "trial {}: the replay differs from the journal: {d}",
            r.trial
        ))),
    }
}

fn export(dir: &Path, trial: Option<u64>, out: &Path, data: Option<&Path>) -> Result<(), Failure> {
    let rec = hpsearch::replay::open(dir, data).map_err(usage)?;
    let a = hpsearch::replay::export(rec, trial).map_err(usage)?;
    a.write(out).map_err(failed)?;
    eprintln!(
        "trial {} ({} {}, cross-validated {} = {}) refitted on all rows: {}",
        a.trial,
        a.model,
        a.task.name(),
        a.metric,
        hpsearch::value::fmt_f64(a.cv_score),
        out.display()
    );
    Ok(())
}

fn predict(
    model: &Path,
    data: &Path,
    out_path: Option<&Path>,
    check_drift: bool,
    keep: &[String],
) -> Result<(), Failure> {
    let a = hpsearch::replay::Artifact::read(model).map_err(usage)?;
    if check_drift && out_path.is_none() {
        return Err(usage(
            "predict --check-drift writes its report beside the predictions: give --out \
             (for example --out preds.csv writes preds.drift.json)",
        ));
    }
    // One streaming pass reads, checks and predicts the rows (with
    // --check-drift, checks them for drift too); input that does not fit
    // writes nothing.
    let report = match hpsearch::replay::predict_file(&a, model, data, out_path, check_drift, keep)
    {
        Ok(r) => r.zip(out_path).map(|(r, p)| (drift_report_path(p), r)),
        Err(e @ hpsearch::replay::ReplayError::Write { .. }) => return Err(failed(e)),
        Err(e) => return Err(usage(e)),
    };
    if let Some((path, report)) = report {
        journal::write_atomic(&path, report.to_json().as_bytes()).map_err(failed)?;
        eprintln!(
            "drift: {} ({} alert, {} warn): {}",
            report.severity.name(),
            report.alerts,
            report.warnings,
            path.display()
        );
        return drift_outcome(&report);
    }
    Ok(())
}

/// Where `predict --check-drift --out P` writes its report: `P` with its
/// extension replaced by `drift.json` (`preds.csv` → `preds.drift.json`).
pub fn drift_report_path(out: &Path) -> PathBuf {
    out.with_extension("drift.json")
}

fn drift(model: &Path, data: &Path, format: DriftFormat) -> Result<(), Failure> {
    let a = hpsearch::replay::Artifact::read(model).map_err(usage)?;
    let report = hpsearch::drift::check(&a, model, data).map_err(usage)?;
    out(&match format {
        DriftFormat::Json => report.to_json(),
        DriftFormat::Text => report.to_text(model, data),
    });
    drift_outcome(&report)
}

/// Exit 3 when a column alerts (the report was already written).
fn drift_outcome(report: &hpsearch::drift::Report) -> Result<(), Failure> {
    if report.severity < hpsearch::drift::Severity::Alert {
        return Ok(());
    }
    let names: Vec<&str> = report
        .columns
        .iter()
        .filter(|c| c.severity == hpsearch::drift::Severity::Alert)
        .map(|c| c.column.as_str())
        .collect();
    Err(Failure {
        code: EXIT_DRIFT,
        message: format!(
            "drift alert in {} column(s): {}",
            names.len(),
            names.join(", ")
        ),
    })
}

/// The exit code of a drift check that alerts.
pub const EXIT_DRIFT: i32 = 3;

fn progress(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{bar:30} {pos}/{len} trials  {msg}  [{elapsed_precise}, eta {eta_precise}]",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Print to stdout; a closed pipe (`hpsearch ... | head`) is not an error.
fn out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn print_summary(search: &Search, rows: &[Row], dir: &Path) {
    out(&summary(search, rows, dir));
}

/// The end-of-run summary: counts, the best trial, its parameters and fold
/// scores, and where the results are.
pub fn summary(search: &Search, rows: &[Row], dir: &Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let failed = rows.iter().filter(|r| r.status == Status::Failed).count();
    let timeouts = rows.iter().filter(|r| r.status == Status::Timeout).count();
    let mut timeouts = match timeouts {
        0 => String::new(),
        n => format!(", {n} timed out"),
    };
    let pruned = rows.iter().filter(|r| r.status == Status::Pruned).count();
    if pruned > 0 {
        timeouts.push_str(&format!(", {pruned} pruned"));
    }
    let _ = writeln!(
        s,
        "{} trials ({} failed{timeouts}), {} search, {} {}",
        rows.len(),
        failed,
        search.strategy.name(),
        search.direction.name(),
        search.metric_name()
    );
    match journal::best_row(search.direction, rows) {
        Some(b) => {
            let _ = writeln!(
                s,
                "best trial {}: {} = {}",
                b.trial,
                search.metric_name(),
                b.value.unwrap_or(f64::NAN)
            );
            // An empty cell is a conditional parameter left inactive.
            for (k, v) in b.params.iter().filter(|(_, v)| !v.is_empty()) {
                let _ = writeln!(s, "  {k} = {v}");
            }
            if !b.folds.is_empty() {
                let n = b.folds.len() as f64;
                let mean = b.folds.iter().sum::<f64>() / n;
                let sd = (b.folds.iter().map(|f| (f - mean) * (f - mean)).sum::<f64>() / n).sqrt();
                let _ = writeln!(s, "  folds: {} (mean {mean:.6} ± {sd:.6})", join(&b.folds));
            }
        }
        None => {
            let _ = writeln!(s, "no trial succeeded");
        }
    }
    let _ = writeln!(s, "results: {}", dir.join("trials.csv").display());
    s
}

fn join(xs: &[f64]) -> String {
    xs.iter()
        .map(|x| format!("{x:.6}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check(file: &Path) -> Result<(), Failure> {
    use std::fmt::Write;
    let loaded = config::load(file, hpsearch::objective::models::MODELS).map_err(usage)?;
    let s = &loaded.search;
    let mut t = String::new();
    let _ = writeln!(t, "{}: ok", file.display());
    let _ = writeln!(t, "root hash: {}", s.root().hex());
    let _ = writeln!(t, "strategy:  {}", s.strategy.name());
    let _ = match s.space.grid_count() {
        Ok(n) => writeln!(t, "grid size: {n}"),
        Err((name, _)) => writeln!(t, "grid size: none (`{name}` is continuous)"),
    };
    // A list of grids: each sub-grid's size, in the order written.
    for (k, n) in s.space.grid_sizes().iter().enumerate() {
        let _ = writeln!(t, "  grid {}:  {n}", k + 1);
    }
    let _ = writeln!(t, "budget:    {} trials", s.budget());
    if let Some(d) = &s.data {
        let _ = writeln!(t, "data:      {} (sha256 {})", d.path.display(), d.sha256);
    }
    if let config::ObjectiveSpec::External {
        runner: Some(r), ..
    } = &s.objective
    {
        let _ = writeln!(
            t,
            "command:   {:?} (runs the external objective; not part of the root hash)",
            r.argv
        );
    }
    if let Some(ds) = &loaded.dataset {
        let _ = writeln!(
            t,
            "rows:      {}, features: {}",
            ds.n_rows,
            ds.feature_names.len()
        );
    }
    let resolved = toml::to_string(&s.canonical()).map_err(failed)?;
    let _ = writeln!(
        t,
        "\n# resolved search (what the root hash covers)\n{resolved}"
    );
    out(&t);
    Ok(())
}

/// The text of `hpsearch models`.
pub fn models_text() -> String {
    let mut out = String::new();
    for m in models::MODELS {
        let tasks: Vec<&str> = m.tasks.iter().map(|t| t.name()).collect();
        out.push_str(&format!(
            "{} ({}{})\n  {}\n",
            m.name,
            tasks.join(", "),
            if m.probabilities {
                "; probabilities"
            } else {
                ""
            },
            m.summary
        ));
        out.push_str(&format!(
            "  resource: {}\n",
            match m.name {
                "random_forest" => "\"samples\" or \"trees\"",
                "gradient_boosting" => "\"samples\" or \"iterations\"",
                _ => "\"samples\"",
            }
        ));
        for p in m.params {
            out.push_str(&format!(
                "    {:<22} default {:<10} {}: {}\n",
                p.name,
                p.default,
                p.help,
                p.accepts()
            ));
        }
        out.push('\n');
    }
    out.push_str(
        "With [search.pruner], [objective] resource = \"samples\" trains each trial on nested \
         subsamples of every training fold that grow rung by rung, and \"trees\" grows a \
         random_forest tree by tree, \"iterations\" a gradient_boosting iteration by \
         iteration; min_resources, max_resources and factor set the rungs. \
         README: Stopping bad trials early.\n",
    );
    out
}

// ------------------------------------------------- show, list, compare, report --

/// Output format of `show` and `compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

/// Output format of `drift`: its report is nested (columns, checks), so
/// there is no CSV form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DriftFormat {
    Text,
    Json,
}

fn inspect_err(e: hpsearch::inspect::InspectError) -> Failure {
    if e.is_bad_input() {
        usage(e)
    } else {
        failed(e)
    }
}

fn show(dir: &Path, top: usize, format: Format) -> Result<(), Failure> {
    use hpsearch::inspect::{self, show};
    let f = inspect::open(dir).map_err(inspect_err)?;
    let s = show::summary(&f, top);
    out(&match format {
        Format::Text => show::to_text(&s),
        Format::Json => show::to_json(&s),
        Format::Csv => show::to_csv(&s),
    });
    Ok(())
}

fn list(dir: Option<&Path>) -> Result<(), Failure> {
    use hpsearch::inspect::list;
    let dir = dir.unwrap_or(Path::new("results"));
    let entries = list::list(dir).map_err(inspect_err)?;
    if entries.is_empty() {
        eprintln!("{}: no results folders here", dir.display());
        return Ok(());
    }
    out(&list::to_text(&entries));
    Ok(())
}

fn compare(dirs: &[PathBuf], format: Format, verbose: bool) -> Result<(), Failure> {
    use hpsearch::inspect::{self, compare};
    let folders = dirs
        .iter()
        .map(|d| inspect::open(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(inspect_err)?;
    let c = compare::compare(&folders);
    match format {
        Format::Text => out(&compare::to_text(&c, verbose)),
        Format::Json => out(&compare::to_json(&c)),
        Format::Csv => out(&compare::to_csv(&c)),
    }
    Ok(())
}

fn report(dirs: &[PathBuf], dest: &Path) -> Result<(), Failure> {
    use hpsearch::inspect::{self, report};
    let folders = dirs
        .iter()
        .map(|d| inspect::open(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(inspect_err)?;
    report::write(&folders, dest).map_err(inspect_err)?;
    eprintln!("report: {}", dest.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_message_rounds_the_best_and_counts_failures() {
        let mut t = Tally::default();
        assert_eq!(t.message(), "");
        t.best = Some(-2.780_370_315_761_001_4);
        assert_eq!(t.message(), "best -2.78037");
        t.best = Some(0.982_425_089_271_852);
        assert_eq!(t.message(), "best 0.982425");
        t.failed = 3;
        assert_eq!(t.message(), "best 0.982425, 3 failed");
        t.timed_out = 1;
        assert_eq!(t.message(), "best 0.982425, 3 failed, 1 timed out");
        t.best = None;
        assert_eq!(t.message(), "3 failed, 1 timed out");
    }

    #[test]
    fn a_stop_is_labelled_stopped_and_anything_else_error() {
        assert_eq!(Failure::stopped("x".into()).label(), "stopped");
        assert_eq!(Failure::stopped("x".into()).code, 130);
        assert_eq!(usage("x").label(), "error");
        assert_eq!(failed("x").label(), "error");
    }
}
