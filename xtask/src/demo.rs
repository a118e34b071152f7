//! `cargo xtask demo [--gateway ADDR] [--site ADDR]`: builds everything, then runs the gateway
//! (SQLite in the target directory, demo channel and agent seeded) and the demo site on its
//! own origin, until Ctrl-C.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::run::{run, Result};
use crate::{dist, paths, tools};

pub fn main(args: &[String]) -> Result {
    let mut gateway: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut site: SocketAddr = ([127, 0, 0, 1], 8081).into();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs an address"))?;
        let addr = value.parse().map_err(|e| format!("{value}: {e}"))?;
        match flag.as_str() {
            "--gateway" => gateway = addr,
            "--site" => site = addr,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let path = tools::ensure_wasm_tools()?;
    dist::build_all(&path)?;
    run(Command::new("cargo")
        .args(["build", "-p", "gateway", "-p", "demo-site"])
        .current_dir(paths::root()))?;

    let bin = paths::target_dir().join("debug");
    let database = paths::target_dir().join("livechat-demo.db");
    let gateway_url = format!("http://{gateway}");
    let site_url = format!("http://{site}");
    let mut gateway_process = Command::new(bin.join("gateway"))
        .env("LIVECHAT_LISTEN", gateway.to_string())
        .env(
            "LIVECHAT_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", database.display()),
        )
        .env("LIVECHAT_DEMO", "true")
        .env("LIVECHAT_DEMO_SITE_ORIGIN", &site_url)
        .env("LIVECHAT_WIDGET_DIR", paths::dist_dir().join("widget"))
        .env("LIVECHAT_CONSOLE_DIR", paths::dist_dir().join("console"))
        .spawn()
        .map_err(|e| format!("cannot start the gateway: {e}"))?;
    let site_process = Command::new(bin.join("demo-site"))
        .args(["--listen", &site.to_string(), "--gateway", &gateway_url])
        .spawn()
        .map_err(|e| format!("cannot start the demo site: {e}"))?;
    wait_until_listening(gateway, &mut gateway_process)?;
    println!(
        "\n  Live chat demo is running.\n\n  \
         Demo site (a visitor's page):  {site_url}/\n  \
         Strict-CSP page:               {site_url}/strict-csp.html\n  \
         Agent console:                 {gateway_url}/console/\n  \
         Agent login:                   {} / {}\n\n  \
         Press Ctrl-C to stop.\n",
        gateway::demo::AGENT_EMAIL,
        gateway::demo::AGENT_PASSWORD,
    );
    // Whichever ends first (Ctrl-C reaches both), stop the other.
    let mut children = [("gateway", gateway_process), ("demo site", site_process)];
    loop {
        let ended = children
            .iter_mut()
            .find_map(|(name, child)| match child.try_wait() {
                Ok(Some(status)) => Some((*name, status)),
                _ => None,
            });
        if let Some((name, status)) = ended {
            for (_, child) in &mut children {
                let _ = child.kill();
            }
            return if status.success() {
                Ok(())
            } else {
                Err(format!("the {name} stopped ({status})"))
            };
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_until_listening(addr: SocketAddr, process: &mut Child) -> Result {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = process.try_wait() {
            return Err(format!("the gateway exited ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!("the gateway did not listen on {addr} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
