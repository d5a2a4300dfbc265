//! lindung as an ordinary gRPC client sees it, not as tonic's client does: a raw HTTP/2 client (h2) that sends each
//! message in its own DATA frame as fast as flow control lets it (as grpcio, grpc-go and grpcurl do), malformed
//! messages, and TCP peers that never speak HTTP/2.

use std::{net::SocketAddr, time::Duration};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use lindung::proto::v1 as pb;
use prost::Message;
use tokio::{io::AsyncReadExt, net::TcpStream};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{TestApp, bogor_worker};

/// What a raw call came back with.
#[derive(Debug)]
struct Answered {
    /// Each response message, undecoded.
    messages: Vec<Bytes>,
    /// `grpc-status` of the trailers (or of a trailers-only answer).
    code: Code,
    /// The status, with its details, as a client library would decode it.
    status: tonic::Status,
}

/// Calls `path` with `messages` (each already encoded), each in its own DATA frame, written without pacing: every
/// frame is queued at once and h2 sends them as the server's windows allow. Fails if the connection is lost.
async fn call_raw(addr: SocketAddr, key: &str, path: &str, messages: Vec<Vec<u8>>) -> Result<Answered, h2::Error> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (client, connection) = h2::client::handshake(tcp).await?;
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await?;
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {key}"))
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false)?;
    let writer = tokio::spawn(async move {
        for message in messages {
            let mut frame = BytesMut::with_capacity(5 + message.len());
            frame.put_u8(0);
            frame.put_u32(message.len() as u32);
            frame.put_slice(&message);
            // One send_data, one DATA frame: h2 never merges them.
            if send.send_data(frame.freeze(), false).is_err() {
                return;
            }
        }
        let _ = send.send_data(Bytes::new(), true);
        // Keep the send half alive until the response is complete (dropping it would reset the stream).
        std::future::pending::<()>().await;
    });
    let response = response.await?;
    let (head, mut body) = response.into_parts();
    let mut buffer = BytesMut::new();
    let mut answers = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        buffer.extend_from_slice(&chunk);
        while buffer.len() >= 5 {
            let length = u32::from_be_bytes(buffer[1..5].try_into().unwrap()) as usize;
            if buffer.len() < 5 + length {
                break;
            }
            buffer.advance(5);
            answers.push(buffer.split_to(length).freeze());
        }
    }
    let trailers = body.trailers().await?.unwrap_or_default();
    writer.abort();
    drop(client);
    connection.abort();
    let headers = if trailers.contains_key("grpc-status") { trailers } else { head.headers };
    let status = tonic::Status::from_header_map(&headers).unwrap_or_else(|| tonic::Status::ok(""));
    Ok(Answered { messages: answers, code: status.code(), status })
}

/// `call_raw`, answering the decoded responses; panics on a lost connection or a status other than OK.
async fn stream_raw<Req: Message, Resp: Message + Default>(
    app: &TestApp,
    key: &str,
    path: &str,
    rows: &[Req],
) -> Vec<Resp> {
    let messages = rows.iter().map(Message::encode_to_vec).collect();
    let answered =
        call_raw(app.addr, key, path, messages).await.unwrap_or_else(|e| panic!("{path}: connection lost: {e}"));
    assert_eq!(answered.code, Code::Ok, "{path}: {:?}", answered.status);
    answered.messages.iter().map(|m| Resp::decode(&m[..]).unwrap()).collect()
}

const COHORT: u32 = 22_474;

fn participant_number(nik: &str) -> String {
    // Day, month, year and serial of the NIK: distinct for every test worker.
    format!("{}", 10_000_000_000u64 + nik[6..].parse::<u64>().unwrap())
}

#[tokio::test]
async fn an_unpaced_client_sending_a_message_per_frame_streams_the_whole_cohort_into_every_bulk_rpc_twice() {
    let app = TestApp::spawn().await;
    let workers: Vec<pb::UpsertWorkersRequest> = (0..COHORT)
        .map(|n| pb::UpsertWorkersRequest { worker: Some(bogor_worker(n)), client_ref: n.to_string() })
        .collect();
    for pass in 0..2 {
        let answers: Vec<pb::UpsertWorkersResponse> =
            stream_raw(&app, &app.keys.jabar, "/lindung.v1.WorkerService/UpsertWorkers", &workers).await;
        assert_eq!(answers.len(), COHORT as usize, "pass {pass}");
        for (i, answer) in answers.iter().enumerate() {
            assert_eq!(answer.index, i as u64);
            assert!(matches!(answer.result, Some(pb::upsert_workers_response::Result::Outcome(_))), "{answer:?}");
        }
    }

    let subsidy = pb::Subsidy {
        name: "Iuran JKK-JKM pekerja rentan Jawa Barat".into(),
        legal_basis: "Keputusan Gubernur Jawa Barat".into(),
        area_code: "32".into(),
        first_month: "2025-09".into(),
        last_month: "2025-12".into(),
        quota: COHORT,
        budget_ceiling: Some(pb::Rupiah { amount: "2000000000".into() }),
        ..Default::default()
    };
    let mut subsidies = pb::subsidy_service_client::SubsidyServiceClient::with_interceptor(
        app.channel().await,
        crate::helpers::Bearer::new(&app.keys.jabar),
    );
    let subsidy_id = subsidies
        .create_subsidy(pb::CreateSubsidyRequest { request_id: "jabar-wire".into(), subsidy: Some(subsidy) })
        .await
        .unwrap()
        .into_inner()
        .subsidy
        .unwrap()
        .id;
    let submissions: Vec<pb::SubmitEnrollmentsRequest> = (0..COHORT)
        .map(|n| pb::SubmitEnrollmentsRequest {
            submission: Some(pb::SubmitEnrollmentRequest {
                request_id: format!("wire-{n}"),
                subsidy_id: subsidy_id.clone(),
                worker_nik: bogor_worker(n).nik,
                first_month: "2025-09".into(),
            }),
        })
        .collect();
    let mut enrollment_ids = Vec::new();
    for pass in 0..2 {
        let answers: Vec<pb::SubmitEnrollmentsResponse> =
            stream_raw(&app, &app.keys.jabar, "/lindung.v1.EnrollmentService/SubmitEnrollments", &submissions).await;
        assert_eq!(answers.len(), COHORT as usize, "pass {pass}");
        let ids: Vec<String> = answers
            .into_iter()
            .map(|a| match a.result {
                Some(pb::submit_enrollments_response::Result::Enrollment(e)) => e.id,
                other => panic!("pass {pass}: {other:?}"),
            })
            .collect();
        if pass == 1 {
            assert_eq!(ids, enrollment_ids, "a resend answers the same enrollments");
        }
        enrollment_ids = ids;
    }

    let decisions: Vec<pb::DecideEnrollmentsRequest> = enrollment_ids
        .iter()
        .zip(0..COHORT)
        .map(|(id, n)| pb::DecideEnrollmentsRequest {
            decision: Some(pb::decide_enrollments_request::Decision::Confirm(pb::ConfirmEnrollmentRequest {
                enrollment_id: id.clone(),
                participant_number: participant_number(&bogor_worker(n).nik),
                protection_start: "2025-09-01".into(),
            })),
        })
        .collect();
    for pass in 0..2 {
        let answers: Vec<pb::DecideEnrollmentsResponse> =
            stream_raw(&app, &app.keys.insurer, "/lindung.v1.EnrollmentService/DecideEnrollments", &decisions).await;
        assert_eq!(answers.len(), COHORT as usize, "pass {pass}");
        for answer in &answers {
            match &answer.result {
                Some(pb::decide_enrollments_response::Result::Enrollment(e)) => {
                    assert_eq!(e.status(), pb::EnrollmentStatus::Active, "pass {pass}")
                }
                other => panic!("pass {pass}: {other:?}"),
            }
        }
    }

    let checks: Vec<pb::VerifyCoverageRequest> = (0..COHORT)
        .map(|n| pb::VerifyCoverageRequest {
            nik: bogor_worker(n).nik,
            date: "2025-09-20".into(),
            programme: pb::Programme::Jkk as i32,
            client_ref: n.to_string(),
            ..Default::default()
        })
        .collect();
    for pass in 0..2 {
        let answers: Vec<pb::VerifyCoverageResponse> =
            stream_raw(&app, &app.keys.insurer, "/lindung.v1.CoverageService/VerifyCoverageStream", &checks).await;
        assert_eq!(answers.len(), COHORT as usize, "pass {pass}");
        for (n, answer) in answers.iter().enumerate() {
            assert_eq!(answer.client_ref, n.to_string());
            assert!(answer.error.is_empty(), "{answer:?}");
            // Enrolled and registered, never billed: the month is unpaid.
            assert_eq!(answer.reason(), pb::CoverageReason::MonthUnpaid, "{answer:?}");
        }
    }
    app.stop().await;
}

/// Field 1 (a message or a string in every bulk request) declared 5 bytes long with 2 bytes left: truncated.
const BROKEN: [u8; 4] = [0x0a, 0x05, 0xff, 0xfe];

#[tokio::test]
async fn a_broken_message_in_a_client_stream_ends_it_with_an_error_after_the_rows_before_it() {
    let app = TestApp::spawn().await;
    let worker = |n| pb::UpsertWorkersRequest { worker: Some(bogor_worker(n)), client_ref: n.to_string() };
    let check = |n| pb::VerifyCoverageRequest {
        nik: bogor_worker(n).nik,
        date: "2025-09-20".into(),
        programme: pb::Programme::Jkk as i32,
        ..Default::default()
    };
    let submission = |n| pb::SubmitEnrollmentsRequest {
        submission: Some(pb::SubmitEnrollmentRequest {
            request_id: format!("broken-{n}"),
            subsidy_id: uuid::Uuid::new_v4().to_string(),
            worker_nik: bogor_worker(n).nik,
            first_month: "2025-09".into(),
        }),
    };
    let decision = |n: u32| pb::DecideEnrollmentsRequest {
        decision: Some(pb::decide_enrollments_request::Decision::Refuse(pb::RefuseEnrollmentRequest {
            enrollment_id: uuid::Uuid::new_v4().to_string(),
            reason: 1,
            detail: format!("row {n}"),
        })),
    };
    let cases: [(&str, &str, Vec<Vec<u8>>); 4] = [
        (
            "/lindung.v1.WorkerService/UpsertWorkers",
            &app.keys.jabar,
            (0..3).map(|n| worker(n).encode_to_vec()).collect(),
        ),
        (
            "/lindung.v1.EnrollmentService/SubmitEnrollments",
            &app.keys.jabar,
            (0..3).map(|n| submission(n).encode_to_vec()).collect(),
        ),
        (
            "/lindung.v1.EnrollmentService/DecideEnrollments",
            &app.keys.insurer,
            (0..3).map(|n| decision(n).encode_to_vec()).collect(),
        ),
        (
            "/lindung.v1.CoverageService/VerifyCoverageStream",
            &app.keys.insurer,
            (0..3).map(|n| check(n).encode_to_vec()).collect(),
        ),
    ];
    for (path, key, valid) in cases {
        let mut messages = valid;
        messages.insert(1, BROKEN.to_vec());
        let answered = call_raw(app.addr, key, path, messages).await.unwrap();
        assert_eq!(answered.messages.len(), 1, "{path}: only the row before the broken one is answered");
        assert_eq!(answered.code, Code::InvalidArgument, "{path}: never OK short of rows: {:?}", answered.status);
        assert!(answered.status.message().contains("row 1"), "{path}: {}", answered.status.message());
        let bad_request = answered.status.get_details_bad_request().expect("field violations");
        assert_eq!(bad_request.field_violations[0].reason, "MESSAGE_UNDECODABLE", "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_undecodable_message_is_invalid_argument_naming_the_field() {
    let app = TestApp::spawn().await;
    let cases: [(&[u8], &str); 3] = [
        (&[0x0a, 0x02, 0xff, 0xfe], "nik"), // invalid UTF-8 in a string
        (&[0x08, 0x01], "nik"),             // a varint where a string belongs
        (&[0x0a, 0x05, 0x33], "nik"),       // truncated
    ];
    for (bytes, field) in cases {
        let answered =
            call_raw(app.addr, &app.keys.insurer, "/lindung.v1.CoverageService/VerifyCoverage", vec![bytes.to_vec()])
                .await
                .unwrap();
        assert_eq!(answered.code, Code::InvalidArgument, "{bytes:02x?}: {:?}", answered.status);
        let violation = &answered.status.get_details_bad_request().expect("field violations").field_violations[0];
        assert_eq!((violation.field.as_str(), violation.reason.as_str()), (field, "MESSAGE_UNDECODABLE"));
    }
    // A nested message: UpsertWorkerRequest.worker.nik.
    let answered = call_raw(
        app.addr,
        &app.keys.jabar,
        "/lindung.v1.WorkerService/UpsertWorker",
        vec![vec![0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe]],
    )
    .await
    .unwrap();
    assert_eq!(answered.code, Code::InvalidArgument, "{:?}", answered.status);
    assert_eq!(answered.status.get_details_bad_request().unwrap().field_violations[0].field, "worker.nik");
    app.stop().await;
}

#[tokio::test]
async fn a_connection_that_never_sends_the_http2_preface_is_closed() {
    let app = TestApp::spawn().await;
    // The test server gives 2 s for the preface.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut buffer = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match silent.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // a server frame, if any
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a silent connection is still open after 10 s");
    // A client that speaks HTTP/2 is served as before.
    let answered =
        call_raw(app.addr, &app.keys.insurer, "/lindung.v1.AgencyService/WhoAmI", vec![vec![]]).await.unwrap();
    assert_eq!(answered.code, Code::Ok, "{:?}", answered.status);
    app.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_and_the_rest_are_served() {
    let app = TestApp::spawn().await;
    // The test server allows 64 connections; 80 silent peers take them all, and the rest are closed at once.
    let mut peers = Vec::new();
    for _ in 0..80 {
        peers.push(TcpStream::connect(app.addr).await.unwrap());
    }
    // A held connection gets silence (the server waits to learn whether it speaks HTTP/2 or HTTP/1.1); a refused
    // one reads end-of-file at once. All are read at the same time, well within the 2 s handshake deadline.
    let reads = peers.iter_mut().map(|peer| async move {
        let mut buffer = [0u8; 64];
        matches!(tokio::time::timeout(Duration::from_millis(500), peer.read(&mut buffer)).await, Ok(Ok(0)))
    });
    let closed = futures::future::join_all(reads).await.into_iter().filter(|&closed| closed).count();
    assert_eq!(closed, 16, "the connections over the limit are closed");
    drop(peers);
    // Their places are free again once they close.
    let mut answered = None;
    for _ in 0..50 {
        match call_raw(app.addr, &app.keys.insurer, "/lindung.v1.AgencyService/WhoAmI", vec![vec![]]).await {
            Ok(a) => {
                answered = Some(a);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(answered.expect("served again").code, Code::Ok);
    app.stop().await;
}

/// Every RPC of the contracts, as `/package.Service/Method`.
fn every_rpc() -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(lindung::proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut paths = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == "lindung.v1") {
        for service in &file.service {
            for method in &service.method {
                paths.push(format!("/lindung.v1.{}/{}", service.name(), method.name()));
            }
        }
    }
    paths.retain(|p| !answers_forever(p));
    paths
}

/// The event feed's stream ends only when its client leaves: a valid request is never answered to its end, so these
/// checks, which read every answer to its end, leave it out (tests/api/feed.rs checks its requests).
fn answers_forever(path: &str) -> bool {
    path == "/lindung.v1.FeedService/Subscribe"
}

#[tokio::test]
async fn no_rpc_answers_internal_to_a_message_that_is_not_protobuf() {
    let app = TestApp::spawn().await;
    let rpcs = every_rpc();
    assert!(rpcs.len() > 30, "{rpcs:?}");
    // Invalid whatever the message's schema: a length past the end, a varint of eleven bytes, the tag 0.
    let always_invalid: [&[u8]; 3] =
        [&[0x0a, 0x05, 0x33], &[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], &[0x00]];
    // Invalid for most: invalid UTF-8 in field 1, and fields 1 to 4 with a wire type none of them has.
    let mostly_invalid: Vec<Vec<u8>> = std::iter::once(vec![0x0a, 0x02, 0xff, 0xfe])
        .chain((1..=4u8).map(|field| [vec![field << 3 | 5], vec![0; 4]].concat()))
        .collect();
    for rpc in &rpcs {
        for key in [&app.keys.insurer, &app.keys.bogor] {
            for payload in always_invalid.iter().map(|p| p.to_vec()).chain(mostly_invalid.iter().cloned()) {
                let answered = call_raw(app.addr, key, rpc, vec![payload.clone()]).await.unwrap();
                assert!(
                    !matches!(answered.code, Code::Internal | Code::Unknown),
                    "{rpc} {payload:02x?}: {:?}",
                    answered.status
                );
            }
            for payload in always_invalid {
                let answered = call_raw(app.addr, key, rpc, vec![payload.to_vec()]).await.unwrap();
                // A streaming RPC authorizes before it reads, so a caller it refuses learns nothing more.
                assert!(
                    matches!(answered.code, Code::InvalidArgument | Code::PermissionDenied),
                    "{rpc} {payload:02x?}: {:?}",
                    answered.status
                );
            }
        }
    }
    app.stop().await;
}

/// An encoding of message `name` with every string field, nested ones included, set to `text`.
fn every_string_set(set: &prost_types::FileDescriptorSet, name: &str, text: &str, depth: usize) -> Vec<u8> {
    use prost_types::field_descriptor_proto::Type;
    let message = set
        .file
        .iter()
        .flat_map(|f| f.message_type.iter().map(move |m| (f.package(), m)))
        .find(|(package, m)| format!(".{package}.{}", m.name()) == name)
        .map(|(_, m)| m);
    let Some(message) = message else { return Vec::new() }; // google.* types: left empty
    let mut out = Vec::new();
    for field in &message.field {
        let value = match field.r#type() {
            Type::String => text.as_bytes().to_vec(),
            Type::Message if depth > 0 => every_string_set(set, field.type_name(), text, depth - 1),
            _ => continue,
        };
        prost::encoding::encode_key(field.number() as u32, prost::encoding::WireType::LengthDelimited, &mut out);
        prost::encoding::encode_varint(value.len() as u64, &mut out);
        out.extend_from_slice(&value);
    }
    out
}

#[tokio::test]
async fn a_nul_byte_or_control_character_in_any_text_field_is_never_internal() {
    let app = TestApp::spawn().await;
    let set = prost_types::FileDescriptorSet::decode(lindung::proto::FILE_DESCRIPTOR_SET).unwrap();
    let methods: Vec<(String, String)> = set
        .file
        .iter()
        .filter(|f| f.package() == "lindung.v1")
        .flat_map(|f| f.service.iter())
        .flat_map(|s| {
            s.method.iter().map(move |m| (format!("/lindung.v1.{}/{}", s.name(), m.name()), m.input_type().to_owned()))
        })
        .filter(|(path, _)| !answers_forever(path))
        .collect();
    for text in ["a\u{0}b", "\u{0}", "x\u{7}y\u{1b}[31m", "\u{202e}abc"] {
        for (path, input) in &methods {
            let message = every_string_set(&set, input, text, 3);
            for key in [&app.keys.insurer, &app.keys.bogor, &app.keys.jabar] {
                let answered = call_raw(app.addr, key, path, vec![message.clone()]).await.unwrap();
                assert!(
                    !matches!(answered.code, Code::Internal | Code::Unknown),
                    "{path} with {text:?} in every text field: {:?}",
                    answered.status
                );
            }
        }
    }
    app.stop().await;
}

/// Well-formed requests with arbitrary values, built from each RPC's descriptor: text that is almost a NIK, a date,
/// a month, an id or an amount, or none of them; numbers at their limits; enum numbers outside the enum; repeated
/// fields empty or several; nested messages or none.
mod arbitrary {
    use proptest::prelude::*;
    use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value};

    fn text() -> BoxedStrategy<String> {
        prop_oneof![
            Just(String::new()),
            "3271[0-9]{12}",
            "[0-9]{0,20}",
            "20[0-9]{2}-[01][0-9](-[0-3][0-9])?",
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "-?[0-9]{1,18}(\\.[0-9]{1,4})?",
            "32(\\.[0-9]{2}){0,3}",
            ".{0,24}",
        ]
        .boxed()
    }

    fn scalar(kind: &Kind) -> BoxedStrategy<Value> {
        match kind {
            Kind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                prop_oneof![-3..40i32, any::<i32>()].prop_map(Value::I32).boxed()
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                prop_oneof![-3..40i64, any::<i64>()].prop_map(Value::I64).boxed()
            }
            Kind::Uint32 | Kind::Fixed32 => prop_oneof![0..40u32, any::<u32>()].prop_map(Value::U32).boxed(),
            Kind::Uint64 | Kind::Fixed64 => prop_oneof![0..40u64, any::<u64>()].prop_map(Value::U64).boxed(),
            Kind::Float => any::<f32>().prop_map(Value::F32).boxed(),
            Kind::Double => any::<f64>().prop_map(Value::F64).boxed(),
            Kind::String => text().prop_map(Value::String).boxed(),
            Kind::Bytes => proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| Value::Bytes(b.into())).boxed(),
            Kind::Enum(e) => {
                let known: Vec<i32> = e.values().map(|v| v.number()).collect();
                prop_oneof![proptest::sample::select(known), -2..40i32].prop_map(Value::EnumNumber).boxed()
            }
            Kind::Message(_) => unreachable!("messages are built by `message`"),
        }
    }

    fn field(field: &FieldDescriptor, depth: u32) -> Option<BoxedStrategy<Value>> {
        let one = match field.kind() {
            Kind::Message(m) if depth == 0 || m.full_name().starts_with("google.") => return None,
            Kind::Message(m) => message(&m, depth - 1).prop_map(Value::Message).boxed(),
            kind => scalar(&kind),
        };
        Some(if field.is_list() { proptest::collection::vec(one, 0..4).prop_map(Value::List).boxed() } else { one })
    }

    /// A message of `descriptor` with each field set or left out, nested `depth` levels deep.
    pub fn message(descriptor: &MessageDescriptor, depth: u32) -> BoxedStrategy<DynamicMessage> {
        let fields: Vec<(FieldDescriptor, BoxedStrategy<Value>)> =
            descriptor.fields().filter(|f| !f.is_map()).filter_map(|f| field(&f, depth).map(|s| (f, s))).collect();
        let (names, strategies): (Vec<FieldDescriptor>, Vec<BoxedStrategy<Value>>) = fields.into_iter().unzip();
        let strategies: Vec<BoxedStrategy<Option<Value>>> =
            strategies.into_iter().map(|s| proptest::option::weighted(0.7, s).boxed()).collect();
        let descriptor = descriptor.clone();
        strategies
            .prop_map(move |values| {
                let mut message = DynamicMessage::new(descriptor.clone());
                for (field, value) in names.iter().zip(values) {
                    // Setting one member of a oneof clears the others, as on the wire.
                    if let Some(value) = value {
                        message.set_field(field, value);
                    }
                }
                message
            })
            .boxed()
    }

    /// Every `google.rpc.Status` inside an answer (a stream's refused rows carry one each).
    pub fn statuses(message: &DynamicMessage, out: &mut Vec<(i32, String)>) {
        if message.descriptor().full_name() == "google.rpc.Status" {
            let code = message.get_field_by_name("code").and_then(|v| v.as_i32()).unwrap_or(0);
            let text = message.get_field_by_name("message").and_then(|v| v.as_str().map(str::to_owned));
            out.push((code, text.unwrap_or_default()));
            return;
        }
        for (_, value) in message.fields() {
            match value {
                Value::Message(m) => statuses(m, out),
                Value::List(items) => {
                    items.iter().filter_map(Value::as_message).for_each(|m| statuses(m, out));
                }
                _ => {}
            }
        }
    }
}

/// RPCs with arbitrary well-formed requests through the real server, as three kinds of agency: never INTERNAL or
/// UNKNOWN (a panic), for the call or for a row of a stream, and an INVALID_ARGUMENT always names its fields.
#[tokio::test(flavor = "multi_thread")]
async fn arbitrary_well_formed_requests_to_every_rpc_are_never_internal_and_a_refusal_names_its_fields() {
    use proptest::{
        strategy::{Strategy, ValueTree},
        test_runner::TestRunner,
    };
    use prost_reflect::DynamicMessage;

    let app = TestApp::spawn().await;
    let pool = &*lindung::connect::DESCRIPTORS;
    let keys = [&app.keys.insurer, &app.keys.bogor, &app.keys.jabar];
    let mut runner = TestRunner::deterministic();
    let mut calls = 0;
    let mut codes = std::collections::BTreeMap::new();
    for service in pool.services().filter(|s| s.package_name() == "lindung.v1") {
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            if answers_forever(&path) {
                continue;
            }
            let strategy = arbitrary::message(&method.input(), 3);
            for case in 0..48 {
                let rows = if method.is_client_streaming() { 1 + case % 3 } else { 1 };
                let messages: Vec<DynamicMessage> =
                    (0..rows).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect();
                let encoded = messages.iter().map(Message::encode_to_vec).collect();
                let key = keys[case % keys.len()];
                let answered = call_raw(app.addr, key, &path, encoded).await.unwrap();
                calls += 1;
                *codes.entry(format!("{:?}", answered.code)).or_insert(0) += 1;
                let shown = || format!("{path} {messages:?}: {:?}", answered.status);
                assert!(!matches!(answered.code, Code::Internal | Code::Unknown), "{}", shown());
                if answered.code == Code::InvalidArgument {
                    let bad = answered.status.get_details_bad_request();
                    let named = bad.is_some_and(|b| {
                        !b.field_violations.is_empty() && b.field_violations.iter().all(|v| !v.field.is_empty())
                    });
                    assert!(named, "an INVALID_ARGUMENT without field violations: {}", shown());
                }
                for answer in &answered.messages {
                    let answer = DynamicMessage::decode(method.output(), &answer[..]).unwrap();
                    let mut inside = Vec::new();
                    arbitrary::statuses(&answer, &mut inside);
                    for (code, text) in inside {
                        assert!(
                            code != Code::Internal as i32 && code != Code::Unknown as i32,
                            "{} row {text}",
                            shown()
                        );
                    }
                }
            }
        }
    }
    // Some of them get past the checks to an answer, so the handlers behind them are reached too.
    assert!(calls > 2_000 && codes.get("Ok").is_some_and(|&ok| ok > calls / 10), "{calls} calls: {codes:?}");
    app.stop().await;
}
