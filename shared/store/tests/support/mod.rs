//! The store's test support lives in `testkit::store_env` (shared with the functions' tests).
#![allow(unused_imports)]

pub use testkit::store_env::*;
