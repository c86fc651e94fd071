//! The `hpsearch` binary: parse arguments, run, map errors to exit codes
//! (see `cli`). A failure is printed as `error: …`; a run
//! stopped by Ctrl-C or SIGTERM (exit 130) as `stopped: …`, with how to
//! resume.

use clap::Parser;

mod cli;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(f) = cli::execute(cli) {
        eprintln!("{}: {}", f.label(), f.message);
        std::process::exit(f.code);
    }
}
