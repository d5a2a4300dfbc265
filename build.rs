//! Compiles the `lindung.v1` contracts with a pure-Rust protobuf compiler, so building needs no `protoc`.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    // sqlx's compile-time checked queries depend on the schema.
    println!("cargo:rerun-if-changed=migrations");

    let files = std::fs::read_dir("proto/lindung/v1")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<PathBuf>, _>>()?;
    let mut files: Vec<PathBuf> = files.into_iter().filter(|p| p.extension().is_some_and(|e| e == "proto")).collect();
    files.sort();

    let descriptors = protox::compile(&files, ["proto"])?;
    // Served by grpc.reflection, so that grpcurl and buf curl need no proto files.
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("lindung_descriptor.bin"), prost::Message::encode_to_vec(&descriptors))?;
    tonic_prost_build::configure()
        // google.rpc.Status (per-row errors of streams) is tonic-types' own type, so its error-detail helpers apply.
        .extern_path(".google.rpc", "::tonic_types::pb")
        // prost's codec, but an undecodable message is INVALID_ARGUMENT rather than INTERNAL (src/codec.rs).
        .codec_path("crate::codec::ProtoCodec")
        .compile_fds(descriptors)?;
    Ok(())
}
