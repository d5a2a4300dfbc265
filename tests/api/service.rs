//! What every gRPC client and operator relies on: health, reflection, request ids, graceful shutdown.

use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_reflection::pb::{v1, v1alpha};

use crate::helpers::TestApp;

#[tokio::test]
async fn health_reports_serving_for_each_lindung_service() {
    let app = TestApp::spawn().await;
    let mut health = HealthClient::new(app.channel().await);
    for service in ["", "lindung.v1.WorkerService", "lindung.v1.AgencyService"] {
        let reply = health.check(HealthCheckRequest { service: service.into() }).await.unwrap().into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reflection_lists_the_lindung_services_in_both_protocol_versions() {
    let app = TestApp::spawn().await;

    let mut client = v1::server_reflection_client::ServerReflectionClient::new(app.channel().await);
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(String::new())),
    };
    let mut replies = client.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let reply = replies.message().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) = reply.message_response
    else {
        panic!("expected a service list, got {reply:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["lindung.v1.WorkerService", "lindung.v1.AgencyService", "grpc.health.v1.Health"] {
        assert!(names.contains(&expected.to_owned()), "{expected} missing from {names:?}");
    }

    // Older grpcurl builds speak only v1alpha; they must see the same services and resolve a lindung symbol.
    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(app.channel().await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
            "lindung.v1.WorkerService".into(),
        )),
    };
    let mut replies = client.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let reply = replies.message().await.unwrap().unwrap();
    assert!(
        matches!(
            reply.message_response,
            Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(_))
        ),
        "{reply:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_request_id_is_echoed_back() {
    let app = TestApp::spawn().await;
    let mut client = app.agencies(&app.keys.bogor).await;
    let mut request = tonic::Request::new(lindung::proto::v1::WhoAmIRequest {});
    request.metadata_mut().insert("x-request-id", "bogor-batch-42".parse().unwrap());
    let response = client.who_am_i(request).await.unwrap();
    assert_eq!(response.metadata().get("x-request-id").unwrap(), "bogor-batch-42");

    let generated = client.who_am_i(lindung::proto::v1::WhoAmIRequest {}).await.unwrap();
    let id = generated.metadata().get("x-request-id").expect("lindung generates a request id").to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    app.stop().await;
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_refused_without_harm() {
    let app = TestApp::spawn().await;
    let mut client = app.workers(&app.keys.bogor).await.max_encoding_message_size(64 * 1024 * 1024);
    let mut worker = crate::helpers::bogor_worker(1);
    worker.full_name = "x".repeat(5 * 1024 * 1024);
    let status =
        client.upsert_worker(lindung::proto::v1::UpsertWorkerRequest { worker: Some(worker) }).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    // The server is still there for the next call.
    let mut client = app.agencies(&app.keys.bogor).await;
    client.who_am_i(lindung::proto::v1::WhoAmIRequest {}).await.unwrap();
    app.stop().await;
}
