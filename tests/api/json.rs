//! The JSON face as an integrator's script meets it: `curl` (not a client of ours) over HTTP/1.1 and HTTP/2,
//! proto3 JSON in and out, errors with the same code, reasons and field violations as gRPC, and the same audit.

use prost::Message;
use serde_json::Value;

use crate::helpers::{TestApp, bogor_worker};

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `curl -i` with `args`, parsed into status, headers and body.
async fn curl(args: &[&str]) -> Answer {
    let output = tokio::process::Command::new("curl").args(["-s", "-i"]).args(args).output().await.expect("curl runs");
    assert!(output.status.success(), "curl failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    Answer { status, headers, body: body.to_owned() }
}

async fn post(app: &TestApp, http: &str, key: Option<&str>, path: &str, body: &str) -> Answer {
    let url = format!("http://{}{path}", app.addr);
    let auth = key.map(|k| format!("authorization: Bearer {k}"));
    let mut args = vec![http, "-H", "content-type: application/json", "--data-binary", body, url.as_str()];
    if let Some(auth) = &auth {
        args.extend(["-H", auth.as_str()]);
    }
    curl(&args).await
}

fn worker_json(n: u32) -> String {
    let worker = bogor_worker(n);
    serde_json::json!({
        "worker": {
            "nik": worker.nik,
            "fullName": worker.full_name,
            "birthDate": worker.birth_date,
            "sex": "SEX_FEMALE",
            "domicileVillageCode": worker.domicile_village_code,
            "occupation": "OCCUPATION_TAILOR",
            "welfare": { "decile": 2, "source": "DTSEN", "asOfQuarter": "2025-Q3" },
            "phone": worker.phone,
        }
    })
    .to_string()
}

#[tokio::test]
async fn unary_rpcs_answer_proto3_json_over_http1_and_http2_with_the_same_authentication_and_audit() {
    let app = TestApp::spawn().await;
    for http in ["--http1.1", "--http2-prior-knowledge"] {
        let who = post(&app, http, Some(&app.keys.bogor), "/lindung.v1.AgencyService/WhoAmI", "{}").await;
        assert_eq!(who.status, 200, "{}", who.body);
        assert_eq!(who.header("content-type"), Some("application/json"));
        assert!(who.header("x-request-id").is_some(), "the request id is echoed");
        assert_eq!(who.json()["agency"]["name"], "Pemerintah Kota Bogor");
        assert_eq!(who.json()["agency"]["kind"], "AGENCY_KIND_CITY", "enums by name");
    }

    // A change through JSON is the same change, audited the same way, as through gRPC.
    let upsert =
        post(&app, "--http1.1", Some(&app.keys.bogor), "/lindung.v1.WorkerService/UpsertWorker", &worker_json(1)).await;
    assert_eq!(upsert.status, 200, "{}", upsert.body);
    let worker = bogor_worker(1);
    assert_eq!(upsert.json()["worker"]["nik"], worker.nik.as_str());
    let request_id = upsert.header("x-request-id").unwrap().to_owned();
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where method = '/lindung.v1.WorkerService/UpsertWorker' and request_id = $1",
    )
    .bind(&request_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Every field is present, defaults included, so a script need not know proto3's omissions.
    let mut workers = app.workers(&app.keys.bogor).await;
    let fetched = workers.get_worker(lindung::proto::v1::GetWorkerRequest { nik: worker.nik.clone() }).await;
    assert!(fetched.is_ok());
    let got = post(
        &app,
        "--http2-prior-knowledge",
        Some(&app.keys.bogor),
        "/lindung.v1.WorkerService/GetWorker",
        &format!(r#"{{"nik":"{}"}}"#, worker.nik),
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json()["worker"]["dateOfDeath"], "", "an empty default is written out");
    app.stop().await;
}

#[tokio::test]
async fn errors_carry_the_grpc_code_reason_and_field_violations_as_json() {
    let app = TestApp::spawn().await;
    let verify = "/lindung.v1.CoverageService/VerifyCoverage";

    let bad = post(
        &app,
        "--http1.1",
        Some(&app.keys.bogor),
        verify,
        r#"{"nik":"123","date":"2025-10-20","programme":"PROGRAMME_JKK"}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
    let body = bad.json();
    assert_eq!(body["code"], "invalid_argument");
    let detail = &body["details"][0];
    assert_eq!(detail["type"], "google.rpc.BadRequest");
    assert_eq!(detail["debug"]["fieldViolations"][0]["field"], "nik");
    assert_eq!(detail["debug"]["fieldViolations"][0]["reason"], "NIK_LENGTH");
    // `value` is the detail itself, protobuf-encoded, for clients that decode google.rpc types.
    let bytes = base64_decode(detail["value"].as_str().unwrap());
    let decoded = tonic_types::pb::BadRequest::decode(bytes.as_slice()).unwrap();
    assert_eq!(decoded.field_violations[0].field, "nik");

    let anonymous = post(&app, "--http1.1", None, verify, "{}").await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["code"], "unauthenticated");
    assert_eq!(anonymous.json()["details"][0]["debug"]["reason"], "API_KEY_MISSING");

    let unknown_field = post(&app, "--http1.1", Some(&app.keys.bogor), verify, r#"{"nike":"3271014501900001"}"#).await;
    assert_eq!(unknown_field.status, 400);
    assert_eq!(unknown_field.json()["details"][0]["debug"]["fieldViolations"][0]["reason"], "JSON_INVALID");

    let not_json = post(&app, "--http1.1", Some(&app.keys.bogor), verify, "nik=1").await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.json()["code"], "invalid_argument");

    let streaming =
        post(&app, "--http1.1", Some(&app.keys.bogor), "/lindung.v1.CoverageService/VerifyCoverageStream", "{}").await;
    assert_eq!(streaming.status, 501);
    assert!(streaming.json()["message"].as_str().unwrap().contains("streaming"));

    let nowhere = post(&app, "--http1.1", Some(&app.keys.bogor), "/lindung.v1.CoverageService/Nope", "{}").await;
    assert_eq!(nowhere.status, 501);
    assert_eq!(nowhere.json()["code"], "unimplemented");
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_description_is_served_and_grpc_web_reaches_the_same_services() {
    let app = TestApp::spawn().await;
    let url = format!("http://{}/openapi.json", app.addr);
    let openapi = curl(&["--http1.1", url.as_str()]).await;
    assert_eq!(openapi.status, 200);
    assert_eq!(openapi.body, lindung::openapi::document());

    // gRPC-Web (what a browser sends): a framed protobuf body over HTTP/1.1, the status in a trailer frame.
    let request = lindung::proto::v1::WhoAmIRequest::default().encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend((request.len() as u32).to_be_bytes());
    framed.extend(request);
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(body.path(), &framed).unwrap();
    let url = format!("http://{}/lindung.v1.AgencyService/WhoAmI", app.addr);
    let auth = format!("authorization: Bearer {}", app.keys.jabar);
    let data = format!("@{}", body.path().display());
    let web = curl(&[
        "--http1.1",
        "-H",
        "content-type: application/grpc-web+proto",
        "-H",
        auth.as_str(),
        "--data-binary",
        data.as_str(),
        url.as_str(),
    ])
    .await;
    assert_eq!(web.status, 200);
    assert!(web.body.contains("Pemerintah Provinsi Jawa Barat"));
    assert!(web.body.contains("grpc-status:0"), "the trailer frame carries the status");
    app.stop().await;
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(text.trim_end_matches('=')).unwrap()
}

#[tokio::test]
async fn every_answer_echoes_the_correlation_id_and_says_how_long_lindung_took() {
    let app = TestApp::spawn().await;
    let url = format!("http://{}/lindung.v1.AgencyService/WhoAmI", app.addr);
    let auth = format!("authorization: Bearer {}", app.keys.bogor);
    for body in ["{}", "{\"nope\": 1}"] {
        let answer = curl(&[
            "--http2-prior-knowledge",
            "-H",
            "content-type: application/json",
            "-H",
            "x-correlation-id: dinsos-bogor-2025-09-0042",
            "-H",
            auth.as_str(),
            "--data-binary",
            body,
            url.as_str(),
        ])
        .await;
        assert_eq!(answer.header("x-correlation-id"), Some("dinsos-bogor-2025-09-0042"), "{}", answer.body);
        let timing = answer.header("server-timing").expect("a Server-Timing header");
        assert!(timing.starts_with("app;dur="), "{timing}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_correlation_id_goes_into_the_audit_trail_and_a_malformed_one_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let auth = format!("authorization: Bearer {}", app.keys.bogor);
    let call = |method: &'static str, correlation: String, body: &'static str| {
        let url = format!("http://{}/lindung.v1.{method}", app.addr);
        let auth = auth.clone();
        async move {
            let header = format!("x-correlation-id: {correlation}");
            let args = ["-H", "content-type: application/json", "-H", &header, "-H", &auth, "--data-binary", body];
            curl(&[&args[..], &[url.as_str()]].concat()).await
        }
    };

    // A look-up that finds no one is a refusal, and is audited with the client's id.
    let missing = call("WorkerService/GetWorker", "SPM-2025-10-0042".into(), r#"{"nik": "3271014505900001"}"#).await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let listed = call("AuditService/ListAuditRecords", "SPM-2025-10-0043".into(), "{}").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let records: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    let looked_up = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "/lindung.v1.WorkerService/GetWorker")
        .unwrap_or_else(|| panic!("the look-up is audited: {}", listed.body));
    assert_eq!(looked_up["correlationId"], "SPM-2025-10-0042", "{looked_up}");
    let kept: i64 = sqlx::query_scalar("select count(*) from audit_log where correlation_id = 'SPM-2025-10-0042'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 1);

    for bad in ["two words".to_owned(), "x".repeat(129)] {
        let refused = call("WorkerService/GetWorker", bad.clone(), r#"{"nik": "3271014505900001"}"#).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        assert!(refused.body.contains("x-correlation-id"), "{}", refused.body);
        assert!(refused.body.contains("CORRELATION_ID_FORMAT"), "{}", refused.body);
    }
    app.stop().await;
}
