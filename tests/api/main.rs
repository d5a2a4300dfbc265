//! lindung's integration tests: one binary, each test with a fresh database and the real server on a real socket.

mod helpers;

mod agencies;
mod areas;
mod attestation;
mod audit_chain;
mod authorization;
mod bench;
mod claims;
mod cli;
mod client_claims;
mod client_cli;
mod client_enroll;
mod client_verify;
mod contributions;
mod coverage;
mod dates;
mod demo;
mod enrollments;
mod faults;
mod feed;
mod json;
mod key_cache;
mod keys;
mod limits;
mod messages;
mod metrics;
mod mtls;
mod reconcile;
mod scale_out;
mod serve;
mod service;
mod statistics;
mod store_loss;
mod wire;
mod workers;
