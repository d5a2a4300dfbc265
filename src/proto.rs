//! The generated `lindung.v1` protobuf and gRPC code, and the descriptor set that server reflection serves.
//! This is the only module that includes generated code.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("lindung.v1");
}

/// Descriptors of every lindung.v1 file and its imports, for `grpc.reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("lindung_descriptor");
