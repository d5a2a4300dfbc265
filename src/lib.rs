//! lindung: the gRPC exchange through which Indonesian city and provincial governments and the social-security
//! insurer register subsidised informal workers (pekerja rentan), enroll them, verify their coverage and settle
//! their claims. See docs/ARCHITECTURE.md for the map.
//!
//! Modules, by layer: the shared plumbing (`config`, `telemetry`, `error`, `proto`, `money`, `month`), the
//! concepts (`area`, `agency`, `auth`, `worker`, `subsidy`, `enrollment`, `audit`), then the wiring (`database`,
//! `app`, `batch`, `paging`).

pub mod clock;
pub mod codec;
pub mod config;
pub mod date;
pub mod error;
pub mod idempotency;
pub mod messages;
pub mod money;
pub mod month;
pub mod nik;
pub mod participant;
pub mod proto;
pub mod quarter;
pub mod seal;
pub mod signing;
pub mod telemetry;
pub mod validate;

pub mod agency;
pub mod area;
pub mod attestation;
pub mod audit;
pub mod auth;
pub mod benefit;
pub mod claim;
pub mod contribution;
pub mod coverage;
pub mod enrollment;
pub mod feed;
pub mod reconcile;
pub mod subsidy;
pub mod worker;

pub mod state;

pub mod app;
pub mod background;
pub mod batch;
pub mod bench;
pub mod client;
pub mod connect;
pub mod database;
pub mod demo;
pub mod health;
pub mod keys;
pub mod limits;
pub mod listener;
pub mod locale;
pub mod meter;
pub mod openapi;
pub mod paging;
pub mod timing;
pub mod tls;

/// The schema migrations, embedded in the binary and applied at start-up.
#[cfg(test)]
mod boundaries;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
