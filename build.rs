//! `sqlx::migrate!` embeds `migrations/` at compile time, but cargo does not notice a new file
//! there by itself: without this a freshly added migration is silently left out of the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
