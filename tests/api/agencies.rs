//! Authentication and the authorization table, as a client sees them.

use lindung::proto::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{Bearer, TestApp, bogor_worker};

#[tokio::test]
async fn who_am_i_names_the_agency_and_what_it_may_call() {
    let app = TestApp::spawn().await;
    let reply = app.agencies(&app.keys.bogor).await.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    let agency = reply.agency.unwrap();
    assert_eq!(agency.name, "Pemerintah Kota Bogor");
    assert_eq!(agency.kind(), pb::AgencyKind::City);
    assert_eq!(agency.region_code, "32.71");
    let methods: Vec<(String, pb::Scope)> = reply.permissions.iter().map(|p| (p.method.clone(), p.scope())).collect();
    assert!(methods.contains(&("/lindung.v1.WorkerService/UpsertWorker".into(), pb::Scope::OwnArea)));

    let insurer = app.agencies(&app.keys.insurer).await.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!(insurer.agency.unwrap().region_code, "");
    let insurer_methods: Vec<&str> = insurer.permissions.iter().map(|p| p.method.as_str()).collect();
    assert!(!insurer_methods.contains(&"/lindung.v1.WorkerService/UpsertWorker"));
    assert!(insurer.permissions.iter().any(|p| p.method.ends_with("/GetWorker") && p.scope() == pb::Scope::All));
    app.stop().await;
}

#[tokio::test]
async fn a_call_without_a_key_or_with_an_unknown_or_revoked_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let channel = app.channel().await;

    let mut anonymous = pb::agency_service_client::AgencyServiceClient::new(channel.clone());
    let status = anonymous.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.get_details_error_info().unwrap().reason, "API_KEY_MISSING");

    let mut stranger =
        pb::agency_service_client::AgencyServiceClient::with_interceptor(channel.clone(), Bearer::new("lk_0000"));
    let status = stranger.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.get_details_error_info().unwrap().reason, "API_KEY_UNKNOWN");

    let revoked = lindung::agency::store::revoke_keys(&app.pool, &app.keys.bogor).await.unwrap();
    assert_eq!(revoked, 1);
    let status = app.agencies(&app.keys.bogor).await.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    app.stop().await;
}

#[tokio::test]
async fn the_authorization_table_holds_for_every_kind_of_agency() {
    let app = TestApp::spawn().await;
    let worker = bogor_worker(1);

    // Writes: the city and province of the worker's domicile may; another city, another province and the insurer may not.
    for (key, expected) in [
        (&app.keys.bogor, Ok(())),
        (&app.keys.jabar, Ok(())),
        (&app.keys.kabupaten_bogor, Err(Code::PermissionDenied)),
        (&app.keys.jakarta, Err(Code::PermissionDenied)),
        (&app.keys.insurer, Err(Code::PermissionDenied)),
    ] {
        let result =
            app.workers(key).await.upsert_worker(pb::UpsertWorkerRequest { worker: Some(worker.clone()) }).await;
        assert_eq!(result.map(|_| ()).map_err(|s| s.code()), expected);
    }

    // Reads: the insurer reads all; governments read their own area only.
    for (key, expected) in [
        (&app.keys.bogor, Ok(())),
        (&app.keys.jabar, Ok(())),
        (&app.keys.insurer, Ok(())),
        (&app.keys.kabupaten_bogor, Err(Code::NotFound)),
        (&app.keys.jakarta, Err(Code::NotFound)),
    ] {
        let result = app.workers(key).await.get_worker(pb::GetWorkerRequest { nik: worker.nik.clone() }).await;
        assert_eq!(result.map(|_| ()).map_err(|s| s.code()), expected);
    }

    // Lists: a government may not list outside its area; the insurer may list any area.
    let list = |area: &str| pb::ListWorkersRequest { area_code: area.into(), ..Default::default() };
    let status = app.workers(&app.keys.kabupaten_bogor).await.list_workers(list("32.71")).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.get_details_error_info().unwrap().reason, "OUTSIDE_AGENCY_AREA");
    let own = app.workers(&app.keys.kabupaten_bogor).await.list_workers(list("")).await.unwrap().into_inner();
    assert!(own.workers.is_empty());
    let all = app.workers(&app.keys.insurer).await.list_workers(list("")).await.unwrap().into_inner();
    assert_eq!(all.workers.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_refused_insurer_write_names_the_rpc_rule() {
    let app = TestApp::spawn().await;
    let status = app
        .workers(&app.keys.insurer)
        .await
        .upsert_worker(pb::UpsertWorkerRequest { worker: Some(bogor_worker(1)) })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.get_details_error_info().unwrap().reason, "RPC_NOT_ALLOWED");
    assert!(status.message().contains("insurer"), "{}", status.message());
    app.stop().await;
}
