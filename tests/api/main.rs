//! Black-box tests: each starts the real server on a random port and speaks HTTP to it.

mod helpers;
mod images;

mod auth;
mod avatars;
mod cache;
mod cli;
mod employees;
mod operations;
mod requests;
