//! The fairloop binary.
fn main() {}
