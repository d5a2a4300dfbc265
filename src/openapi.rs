//! The OpenAPI 3 description of the JSON face ([`crate::connect`]), generated from the same descriptors that serve
//! it, comments included. It is committed as docs/openapi.json, served at `/openapi.json`, and a test fails when
//! the committed file no longer matches the protos (`lindung openapi > docs/openapi.json` regenerates it).

use std::collections::BTreeSet;

use prost_reflect::{Cardinality, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::connect::DESCRIPTORS;

/// The package whose services are described.
const PACKAGE: &str = "lindung.v1";

/// The document, as pretty-printed JSON with its keys in order (the same bytes for the same protos).
pub fn document() -> String {
    let mut paths = Map::new();
    let mut wanted = BTreeSet::new();
    let mut streaming = Vec::new();
    let mut tags = Vec::new();
    for service in DESCRIPTORS.services().filter(|s| s.package_name() == PACKAGE) {
        tags.push(json!({
            "name": service.name(),
            "description": comment(&service.parent_file(), service.path()).unwrap_or_default(),
        }));
        for method in service.methods() {
            if method.is_client_streaming() || method.is_server_streaming() {
                streaming.push(format!("`{}/{}`", service.name(), method.name()));
                continue;
            }
            wanted.insert(method.input().full_name().to_owned());
            wanted.insert(method.output().full_name().to_owned());
            let description = comment(&service.parent_file(), method.path()).unwrap_or_default();
            let summary = description.lines().next().unwrap_or(method.name()).to_owned();
            let operation = json!({
                "operationId": format!("{}_{}", service.name(), method.name()),
                "tags": [service.name()],
                "summary": summary,
                "description": description,
                "requestBody": {
                    "required": true,
                    "content": { "application/json": { "schema": reference(method.input().full_name()) } }
                },
                "responses": {
                    "200": {
                        "description": "The answer, as proto3 JSON with every field present.",
                        "content": { "application/json": { "schema": reference(method.output().full_name()) } }
                    },
                    "default": {
                        "description": "A refusal or a fault: the gRPC code, message and google.rpc details.",
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/connect.Error" } } }
                    }
                }
            });
            paths.insert(format!("/{}/{}", service.full_name(), method.name()), json!({ "post": operation }));
        }
    }

    let mut schemas = Map::new();
    let mut pending: Vec<String> = wanted.into_iter().collect();
    while let Some(name) = pending.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        let Some(message) = DESCRIPTORS.get_message_by_name(&name) else { continue };
        schemas.insert(name, message_schema(&message, &mut pending));
    }
    schemas.insert("connect.Error".to_owned(), error_schema());

    let document = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "lindung",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "The JSON face of lindung's gRPC services: every unary RPC is `POST /lindung.v1.<Service>/<Method>` \
                 with `Content-Type: application/json` and a proto3-JSON body (the Connect protocol's unary form), \
                 on the gRPC port, over HTTP/1.1 or HTTP/2. 64-bit integers are strings, enums their names, \
                 timestamps RFC 3339. Streaming RPCs are served over gRPC and gRPC-Web only: {}.",
                streaming.join(", ")
            ),
        },
        "servers": [{ "url": "http://127.0.0.1:50051" }],
        "security": [{ "apiKey": [] }],
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "http", "scheme": "bearer", "description": "The agency's API key." }
            },
            "schemas": schemas,
        },
        "tags": tags,
        "paths": paths,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("a JSON value prints");
    text.push('\n');
    text
}

fn reference(full_name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{full_name}") })
}

fn message_schema(message: &MessageDescriptor, pending: &mut Vec<String>) -> Value {
    if let Some(known) = well_known(message.full_name()) {
        return known;
    }
    let mut properties = Map::new();
    for field in message.fields() {
        let mut schema = field_schema(&field, pending);
        if let Some(text) = comment(&message.parent_file(), field.path())
            && let Some(object) = schema.as_object_mut()
        {
            // A $ref takes no siblings in OpenAPI 3.0: the description goes beside it through allOf.
            if object.contains_key("$ref") {
                schema = json!({ "allOf": [schema], "description": text });
            } else {
                object.insert("description".to_owned(), Value::String(text));
            }
        }
        properties.insert(field.json_name().to_owned(), schema);
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if let Some(text) = comment(&message.parent_file(), message.path()) {
        schema["description"] = Value::String(text);
    }
    schema
}

fn field_schema(field: &FieldDescriptor, pending: &mut Vec<String>) -> Value {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else { unreachable!("a map field's kind is its entry message") };
        let value = entry.map_entry_value_field();
        return json!({ "type": "object", "additionalProperties": kind_schema(&value.kind(), pending) });
    }
    let item = kind_schema(&field.kind(), pending);
    if field.cardinality() == Cardinality::Repeated { json!({ "type": "array", "items": item }) } else { item }
}

fn kind_schema(kind: &Kind, pending: &mut Vec<String>) -> Value {
    match kind {
        Kind::Double => json!({ "type": "number", "format": "double" }),
        Kind::Float => json!({ "type": "number", "format": "float" }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({ "type": "integer", "format": "int32" }),
        Kind::Uint32 | Kind::Fixed32 => json!({ "type": "integer", "format": "int64", "minimum": 0 }),
        // proto3 JSON writes 64-bit integers as strings (JavaScript numbers lose them).
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({ "type": "string", "format": "int64" }),
        Kind::Uint64 | Kind::Fixed64 => json!({ "type": "string", "format": "uint64" }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::String => json!({ "type": "string" }),
        Kind::Bytes => json!({ "type": "string", "format": "byte" }),
        Kind::Enum(e) => {
            let values: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
            json!({ "type": "string", "enum": values })
        }
        Kind::Message(m) => {
            pending.push(m.full_name().to_owned());
            reference(m.full_name())
        }
    }
}

/// The well-known types have a JSON form of their own.
fn well_known(full_name: &str) -> Option<Value> {
    Some(match full_name {
        "google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "google.protobuf.Duration" => {
            json!({ "type": "string", "description": "seconds with an `s` suffix, e.g. `1.5s`" })
        }
        "google.protobuf.Empty" => json!({ "type": "object" }),
        "google.protobuf.Any" => json!({ "type": "object", "properties": { "@type": { "type": "string" } } }),
        "google.protobuf.Struct" => json!({ "type": "object" }),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.StringValue" => json!({ "type": "string" }),
        "google.protobuf.BoolValue" => json!({ "type": "boolean" }),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => json!({ "type": "integer" }),
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => json!({ "type": "string", "format": "int64" }),
        _ => return None,
    })
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "description": "A Connect error: the gRPC status code by name, its message and the google.rpc details \
                        (BadRequest's field violations, ErrorInfo's reason, RetryInfo …), each with its JSON in `debug`.",
        "required": ["code", "message"],
        "properties": {
            "code": {
                "type": "string",
                "enum": ["canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists",
                         "permission_denied", "resource_exhausted", "failed_precondition", "aborted", "out_of_range",
                         "unimplemented", "internal", "unavailable", "data_loss", "unauthenticated"]
            },
            "message": { "type": "string" },
            "details": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": { "type": "string", "example": "google.rpc.BadRequest" },
                        "value": { "type": "string", "format": "byte", "description": "the detail, protobuf-encoded" },
                        "debug": { "type": "object", "description": "the detail as JSON" }
                    }
                }
            }
        }
    })
}

/// The comment before the element at `path` in `file`, trimmed.
fn comment(file: &FileDescriptor, path: &[i32]) -> Option<String> {
    let info = file.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let text = location.leading_comments.as_deref()?;
    let lines: Vec<&str> = text.lines().map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end()).collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_openapi_document_matches_the_protos() {
        let committed = include_str!("../docs/openapi.json");
        assert!(
            committed == super::document(),
            "docs/openapi.json is stale: regenerate it with `cargo run -- openapi > docs/openapi.json`"
        );
    }

    #[test]
    fn every_unary_rpc_has_a_path_and_its_messages_a_schema() {
        let document: serde_json::Value = serde_json::from_str(&super::document()).unwrap();
        let verify = &document["paths"]["/lindung.v1.CoverageService/VerifyCoverage"]["post"];
        assert_eq!(verify["operationId"], "CoverageService_VerifyCoverage");
        let request = &document["components"]["schemas"]["lindung.v1.VerifyCoverageRequest"];
        assert_eq!(request["properties"]["participantNumber"]["type"], "string");
        assert!(document["paths"].get("/lindung.v1.CoverageService/VerifyCoverageStream").is_none());
    }
}
