//! `bisik`: see `bisik --help`. All logic lives in the library; this only hands over.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    bisik::cli::run()
}
