//! `bisik`: see `bisik --help`. All logic lives in the library; this only hands over.
#![forbid(unsafe_code)]

/// mimalloc instead of the C library's allocator (BENCHMARKS Y: glibc's malloc and free took
/// about a third of the server's CPU under sixteen members' requests).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    bisik::cli::run()
}
