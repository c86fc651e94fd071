//! The `hpsearch` binary: parse arguments, run, map errors to exit codes
//! (see `hpsearch::cli`).

use clap::Parser;

fn main() {
    let cli = hpsearch::cli::Cli::parse();
    if let Err(f) = hpsearch::cli::execute(cli) {
        eprintln!("error: {}", f.message);
        std::process::exit(f.code);
    }
}
