//! A scratch PostgreSQL database for one test, on the server `LIVECHAT_TEST_POSTGRES` names
//! (`postgres://127.0.0.1:5432/test` in CI). Without that variable there is no server to use,
//! and the PostgreSQL tests say so and do nothing: SQLite, the default, needs no server.

use sqlx::Connection;

pub struct ScratchDatabase {
    server: String,
    name: String,
    /// Where the gateway connects.
    pub url: String,
}

pub const SERVER_VARIABLE: &str = "LIVECHAT_TEST_POSTGRES";

impl ScratchDatabase {
    pub async fn create() -> Option<Self> {
        let Ok(server) = std::env::var(SERVER_VARIABLE) else {
            eprintln!("{SERVER_VARIABLE} is not set: no PostgreSQL server to test against");
            return None;
        };
        let name = format!("livechat_test_{}", std::process::id())
            + &format!(
                "_{}",
                gateway::tokens::random_token(6)
                    .to_lowercase()
                    .replace(['-', '_'], "x")
            );
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("{SERVER_VARIABLE}={server}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the scratch database");
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Some(Self { server, name, url })
    }

    /// Drops the database, sessions and all.
    pub async fn drop(self) {
        let mut admin = sqlx::PgConnection::connect(&self.server)
            .await
            .expect("reconnect to drop");
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&mut admin)
            .await
            .expect("drop the scratch database");
    }
}
