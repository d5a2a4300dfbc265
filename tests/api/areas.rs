//! The Kemendagri area list, loaded into the store at start-up.

use crate::helpers::TestApp;

#[tokio::test]
async fn kota_bogor_has_its_six_districts_and_sixty_eight_villages_and_all_provinces_are_present() {
    let app = TestApp::spawn().await;
    let count = |sql: &'static str| {
        let pool = app.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(count("select count(*) from provinces").await, 38);
    assert_eq!(count("select count(*) from districts where regency_code = '32.71'").await, 6);
    assert_eq!(count("select count(*) from villages where code like '32.71.%'").await, 68);
    let name: String =
        sqlx::query_scalar("select name from regencies where code = '32.71'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(name, "Kota Bogor");
    app.stop().await;
}

#[tokio::test]
async fn loading_the_area_list_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let loaded = lindung::area::store::ensure_loaded(&app.pool).await.unwrap();
    assert!(!loaded, "the edition is already loaded");
    app.stop().await;
}
