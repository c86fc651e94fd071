//! The `hpsearch` binary: parse arguments, run, map errors to exit codes
//! (see `hpsearch::cli`). A failure is printed as `error: …`; a run
//! stopped by Ctrl-C or SIGTERM (exit 130) as `stopped: …`, with how to
//! resume.

use clap::Parser;

fn main() {
    let cli = hpsearch::cli::Cli::parse();
    if let Err(f) = hpsearch::cli::execute(cli) {
        eprintln!("{}: {}", f.label(), f.message);
        std::process::exit(f.code);
    }
}
