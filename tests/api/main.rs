//! Black-box tests: each starts the real server on a random port and speaks HTTP to it.

mod helpers;

mod auth;
mod cli;
mod employees;
mod requests;
