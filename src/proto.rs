//! The generated `lindung.v1` protobuf and gRPC code, and the descriptor set that server reflection serves.
//! This is the only module that includes generated code.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("lindung.v1");
}

/// Descriptors of every lindung.v1 file and its imports, for `grpc.reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("lindung_descriptor");

/// Conversions of the shared vocabulary that every concept's `grpc.rs` uses.
pub mod convert {
    use chrono::{DateTime, Utc};

    use super::v1 as pb;
    use crate::money::Rupiah;

    /// An amount on the wire: an exact decimal string.
    pub fn rupiah(amount: Rupiah) -> pb::Rupiah {
        pb::Rupiah { amount: amount.to_string() }
    }

    pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
    }
}
