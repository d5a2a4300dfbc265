//! lindung's JSON face: every unary RPC answers `POST /lindung.v1.<Service>/<Method>` with a proto3-JSON body, over
//! HTTP/1.1 or HTTP/2, on the gRPC port. This is the unary form of the Connect protocol, which `curl`, PHP's Guzzle
//! or Python's `requests` speak with no generated code.
//!
//! It is not a second implementation of any RPC: [`JsonLayer`] turns the JSON request into the gRPC request it
//! stands for (the same bytes a gRPC stub would send, with the caller's headers) and hands it to the same service
//! stack, so authentication, authorization, limits, validation and audit are those of gRPC by construction. The
//! answer is turned back: the message as proto3 JSON, or an error carrying the same code, message and
//! `google.rpc` details (BadRequest field violations, ErrorInfo reasons, RetryInfo) as the gRPC trailers did.
//!
//! The JSON mapping comes from the descriptors the server already embeds (prost-reflect), never from hand-written
//! serde: a field added to a `.proto` file is in the JSON face with no further code.

use std::{
    sync::{Arc, LazyLock},
    task::{Context, Poll},
};

use base64::{
    Engine, alphabet,
    engine::{
        DecodePaddingMode,
        general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD},
    },
};
use bytes::{BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use prost::Message;
use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage, MethodDescriptor, SerializeOptions};
use tonic::body::Body;
use tower::{Layer, Service};

/// Every message lindung's services use, with their imports and the `google.rpc` error details.
pub static DESCRIPTORS: LazyLock<DescriptorPool> = LazyLock::new(|| {
    let mut pool = DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET).expect("lindung's descriptors are valid");
    // The error details and health, file by file: a file lindung's protos already import (google.rpc.Status, under
    // another file name) is kept once.
    for set in [tonic_types::pb::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET] {
        let set = prost_types::FileDescriptorSet::decode(set).expect("the embedded descriptor sets decode");
        for file in set.file {
            let _ = pool.add_file_descriptor_proto(file);
        }
    }
    pool
});

/// gRPC's `-bin` metadata is base64 with or without padding.
const BINARY_METADATA: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Where the OpenAPI description of the JSON face is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Puts the JSON face in front of the gRPC services.
#[derive(Debug, Clone)]
pub struct JsonLayer {
    max_message_bytes: usize,
    openapi: Bytes,
}

impl JsonLayer {
    pub fn new(max_message_bytes: usize) -> JsonLayer {
        JsonLayer { max_message_bytes, openapi: Bytes::from(crate::openapi::document()) }
    }
}

impl<S> Layer<S> for JsonLayer {
    type Service = Json<S>;
    fn layer(&self, inner: S) -> Json<S> {
        Json { inner, settings: Arc::new(self.clone()) }
    }
}

#[derive(Debug, Clone)]
pub struct Json<S> {
    inner: S,
    settings: Arc<JsonLayer>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> Service<Request<Body>> for Json<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if request.method() == Method::GET && request.uri().path() == OPENAPI_PATH {
            let document = self.settings.openapi.clone();
            return Box::pin(async move { Ok(json_response(StatusCode::OK, document)) });
        }
        if !is_json(request.headers()) || request.method() != Method::POST {
            let future = self.inner.call(request);
            return Box::pin(async move { future.await.map(|r| r.map(Body::new)).map_err(Into::into) });
        }
        // The ready service answers this call; a clone takes its place for the next (tower's usual swap).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let settings = self.settings.clone();
        Box::pin(async move { Ok(transcode(inner, &settings, request).await) })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// One JSON call: find the method, parse the body, call the gRPC service, turn its answer into JSON.
async fn transcode<S, B>(mut inner: S, settings: &JsonLayer, request: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let path = request.uri().path().to_owned();
    let Some(method) = find_method(&path) else {
        return error_response(
            Code::Unimplemented,
            &format!("no RPC at {path}: paths are /<package>.<Service>/<Method>"),
            &[],
        );
    };
    if method.is_client_streaming() || method.is_server_streaming() {
        return error_response(
            Code::Unimplemented,
            &format!(
                "{} is a streaming RPC: call it over gRPC or gRPC-Web; the JSON face serves unary RPCs",
                method.full_name()
            ),
            &[],
        );
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, settings.max_message_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            let message = format!("the request body is larger than {} bytes", settings.max_message_bytes);
            return error_response(Code::ResourceExhausted, &message, &[]);
        }
        Err(error) => return error_response(Code::Cancelled, &format!("the request body was cut short: {error}"), &[]),
    };
    let message = match parse(&method, &body) {
        Ok(message) => message,
        Err(problem) => return bad_json(&problem),
    };

    let mut grpc = Request::new(Body::new(Full::new(frame(&message.encode_to_vec()))));
    *grpc.method_mut() = Method::POST;
    *grpc.uri_mut() = parts.uri;
    *grpc.version_mut() = http::Version::HTTP_2;
    *grpc.extensions_mut() = parts.extensions;
    let headers = grpc.headers_mut();
    for (name, value) in &parts.headers {
        if !is_hop_or_content_header(name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    if let Some(timeout) = parts.headers.get("connect-timeout-ms").and_then(|v| v.to_str().ok()) {
        // Connect's deadline in milliseconds is gRPC's `<n>m`.
        if let Ok(value) = HeaderValue::from_str(&format!("{}m", timeout.trim())) {
            headers.insert("grpc-timeout", value);
        }
    }

    let response = match inner.call(grpc).await {
        Ok(response) => response,
        Err(error) => {
            let error: BoxError = error.into();
            tracing::warn!(%error, "the gRPC stack failed a JSON call");
            return error_response(Code::Unavailable, "the call could not be served; retry", &[]);
        }
    };
    let (parts, body) = response.into_parts();
    let collected = match body.collect().await {
        Ok(collected) => collected,
        Err(error) => {
            let error: BoxError = error.into();
            tracing::warn!(%error, "a gRPC answer to a JSON call was cut short");
            return error_response(Code::Unavailable, "the answer was cut short; retry", &[]);
        }
    };
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let data = collected.to_bytes();
    // A trailers-only answer (an error before any message) carries its status in the headers.
    let status_from = if trailers.contains_key("grpc-status") { &trailers } else { &parts.headers };
    let code = status_from.get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(2);
    let mut answer = if code == 0 {
        match unframe(&data).and_then(|bytes| DynamicMessage::decode(method.output(), bytes).ok()) {
            Some(message) => json_response(StatusCode::OK, Bytes::from(to_json(&message))),
            None => error_response(Code::Internal, "the service's answer could not be read", &[]),
        }
    } else {
        let message = status_from.get("grpc-message").map(|v| percent_decode(v.as_bytes())).unwrap_or_default();
        let details = status_from
            .get("grpc-status-details-bin")
            .and_then(|v| BINARY_METADATA.decode(v.as_bytes()).ok())
            .and_then(|bytes| tonic_types::pb::Status::decode(bytes.as_slice()).ok())
            .map(|status| status.details)
            .unwrap_or_default();
        error_response(Code::from_i32(code), &message, &details)
    };
    // The request id and other response headers travel on; gRPC's own framing headers do not.
    for (name, value) in &parts.headers {
        let name_str = name.as_str();
        if !name_str.starts_with("grpc-") && !is_hop_or_content_header(name_str) {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}

fn find_method(path: &str) -> Option<MethodDescriptor> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    DESCRIPTORS.get_service_by_name(service)?.methods().find(|m| m.name() == method)
}

/// The body as the method's input message; an empty body is the empty message, as in Connect.
fn parse(method: &MethodDescriptor, body: &[u8]) -> Result<DynamicMessage, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(method.input()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let message = DynamicMessage::deserialize_with_options(method.input(), &mut deserializer, &options)
        .map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(message)
}

/// proto3 JSON with every field present, defaults included: `"covered": false` is clearer to a PHP client than a
/// missing key. Client commands print `--json` with it too.
pub fn to_json(message: &DynamicMessage) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    let options = SerializeOptions::new().skip_default_fields(false);
    message.serialize_with_options(&mut serializer, &options).expect("a decoded message serializes");
    out
}

fn frame(message: &[u8]) -> Bytes {
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    framed.put_slice(message);
    framed.freeze()
}

/// The one message of a unary answer (lindung does not compress answers).
fn unframe(data: &[u8]) -> Option<&[u8]> {
    let (&flag, rest) = data.split_first()?;
    let length = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    (flag == 0).then(|| rest.get(4..4 + length)).flatten()
}

fn is_hop_or_content_header(name: &str) -> bool {
    matches!(
        name,
        "content-type"
            | "content-length"
            | "content-encoding"
            | "accept-encoding"
            | "te"
            | "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    ) || name.starts_with("connect-")
}

/// grpc-message is percent-encoded (gRPC's HTTP/2 protocol).
fn percent_decode(value: &[u8]) -> String {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%'
            && let Some(byte) = value
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(value[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::new(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A body that is not JSON of the method's input: the same answer a gRPC client gets for an undecodable message,
/// with the parser's words as the field violation.
fn bad_json(problem: &str) -> Response<Body> {
    let error = crate::error::Error::invalid("body", crate::msg!(JSON_INVALID, problem = problem));
    let details = crate::error::to_rpc_status(error).details;
    error_response(Code::InvalidArgument, "the request body is not valid JSON for this RPC", &details)
}

/// A Connect error: `{"code": "invalid_argument", "message": "…", "details": [{"type", "value", "debug"}]}`, with
/// the HTTP status Connect assigns to the code. `debug` is the detail as JSON, for people and for clients
/// without protobuf.
fn error_response(code: Code, message: &str, details: &[prost_types::Any]) -> Response<Body> {
    let any_details = details;
    let details: Vec<serde_json::Value> = details
        .iter()
        .map(|any| {
            let type_name = any.type_url.rsplit('/').next().unwrap_or(&any.type_url).to_owned();
            let debug = DESCRIPTORS
                .get_message_by_name(&type_name)
                .and_then(|desc| DynamicMessage::decode(desc, any.value.as_slice()).ok())
                .and_then(|message| serde_json::from_slice::<serde_json::Value>(&to_json(&message)).ok());
            let mut detail = serde_json::json!({ "type": type_name, "value": STANDARD_NO_PAD.encode(&any.value) });
            if let Some(debug) = debug {
                detail["debug"] = debug;
            }
            detail
        })
        .collect();
    let mut body = serde_json::json!({ "code": code.name(), "message": message });
    if !details.is_empty() {
        body["details"] = serde_json::Value::Array(details);
    }
    let mut response = json_response(code.http_status(), Bytes::from(body.to_string()));
    if let Some(seconds) = retry_after_seconds(any_details) {
        response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
    }
    response
}

/// A `google.rpc.RetryInfo` detail's delay in whole seconds, rounded up, for HTTP's `Retry-After`: what an HTTP
/// client library honours on a 429 or 503 without reading the body.
fn retry_after_seconds(details: &[prost_types::Any]) -> Option<u64> {
    let any = details.iter().find(|any| any.type_url.ends_with("/google.rpc.RetryInfo"))?;
    let delay = <tonic_types::pb::RetryInfo as prost::Message>::decode(any.value.as_slice()).ok()?.retry_delay?;
    let seconds = u64::try_from(delay.seconds).ok()?;
    Some(seconds + u64::from(delay.nanos > 0))
}

/// gRPC status codes with Connect's names and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Cancelled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    Internal,
    Unavailable,
    DataLoss,
    Unauthenticated,
}

impl Code {
    fn from_i32(code: i32) -> Code {
        match code {
            1 => Code::Cancelled,
            3 => Code::InvalidArgument,
            4 => Code::DeadlineExceeded,
            5 => Code::NotFound,
            6 => Code::AlreadyExists,
            7 => Code::PermissionDenied,
            8 => Code::ResourceExhausted,
            9 => Code::FailedPrecondition,
            10 => Code::Aborted,
            11 => Code::OutOfRange,
            12 => Code::Unimplemented,
            13 => Code::Internal,
            14 => Code::Unavailable,
            15 => Code::DataLoss,
            16 => Code::Unauthenticated,
            _ => Code::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Code::Cancelled => "canceled",
            Code::Unknown => "unknown",
            Code::InvalidArgument => "invalid_argument",
            Code::DeadlineExceeded => "deadline_exceeded",
            Code::NotFound => "not_found",
            Code::AlreadyExists => "already_exists",
            Code::PermissionDenied => "permission_denied",
            Code::ResourceExhausted => "resource_exhausted",
            Code::FailedPrecondition => "failed_precondition",
            Code::Aborted => "aborted",
            Code::OutOfRange => "out_of_range",
            Code::Unimplemented => "unimplemented",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::DataLoss => "data_loss",
            Code::Unauthenticated => "unauthenticated",
        }
    }

    /// The Connect protocol's table of HTTP statuses.
    fn http_status(self) -> StatusCode {
        match self {
            Code::Cancelled => StatusCode::from_u16(499).expect("499 is a valid status"),
            Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => StatusCode::BAD_REQUEST,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_of_every_service_is_found_by_its_path() {
        let method = find_method("/lindung.v1.CoverageService/VerifyCoverage").unwrap();
        assert_eq!(method.input().full_name(), "lindung.v1.VerifyCoverageRequest");
        assert!(find_method("/lindung.v1.CoverageService/Nope").is_none());
        assert!(find_method("/nope").is_none());
        assert!(find_method("/grpc.health.v1.Health/Check").is_some());
    }

    #[test]
    fn frames_round_trip_and_percent_encoding_is_undone() {
        assert_eq!(unframe(&frame(b"abc")), Some(&b"abc"[..]));
        assert_eq!(unframe(&[1, 0, 0, 0, 1, 9]), None, "a compressed frame is not read as plain");
        assert_eq!(unframe(&[0, 0, 0, 0, 9]), None, "a short frame is refused");
        assert_eq!(percent_decode(b"nik: 16 digits%2C got 3 %E2%80%94 100%"), "nik: 16 digits, got 3 — 100%");
    }

    #[test]
    fn bodies_that_are_not_json_of_the_input_are_refused_with_the_parser_s_words() {
        let method = find_method("/lindung.v1.CoverageService/VerifyCoverage").unwrap();
        assert!(parse(&method, b"").is_ok());
        assert!(parse(&method, br#"{"nik": "3271014501900001"}"#).is_ok());
        assert!(parse(&method, br#"{"nope": 1}"#).unwrap_err().contains("nope"));
        assert!(parse(&method, b"{").is_err());
        assert!(parse(&method, br#"{} {}"#).is_err());
    }
}
