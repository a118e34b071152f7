//! The pinned toolchain, installed when missing, never downloaded prebuilt:
//! the `wasm32-unknown-unknown` target (rustup), Trunk (crates.io), `wasm-bindgen-cli` at exactly
//! Cargo.lock's `wasm-bindgen` (crates.io), `wasm-opt` from npm's `binaryen` (Debian's is too old
//! and its output breaks in Chromium), Terser and csso (npm) for the served loader, axe-core (npm) for the accessibility tests, `twiggy` (crates.io)
//! for the size report, and for the tests Debian's `chromium` + `chromium-driver`, moto's S3
//! server (PyPI) for the file store's tests against a real S3 endpoint, and aiosmtpd (PyPI) for
//! the email tests' SMTP server.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::paths;
use crate::run::{output, run, Result};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const BINARYEN_VERSION: &str = "132";
/// moto, whose server mode speaks the S3 API on localhost for the file store's tests.
pub const MOTO_VERSION: &str = "5.1.22";
/// aiosmtpd, the SMTP server the email tests send to.
pub const AIOSMTPD_VERSION: &str = "1.4.6";
/// The JavaScript minifier the served loader goes through.
pub const TERSER_VERSION: &str = "5.51.4";
/// The CSS minifier the launcher's stylesheet goes through (csso's command line).
pub const CSSO_CLI_VERSION: &str = "4.0.2";
/// The accessibility checker the browser tests run in the pages.
pub const AXE_CORE_VERSION: &str = "4.10.3";
/// The code size profiler behind `cargo xtask size`.
pub const TWIGGY_VERSION: &str = "0.8.0";

/// Makes sure the WASM build tools are installed at their pinned versions and returns the PATH
/// under which Trunk finds them.
pub fn ensure_wasm_tools() -> Result<OsString> {
    let path = tool_path();
    ensure_wasm_target()?;
    let bindgen = lockfile_version("wasm-bindgen")?;
    check_trunk_toml(&bindgen)?;
    ensure_cargo_tool("trunk", "trunk", TRUNK_VERSION, true, &path)?;
    // Its own lockfile pins a crate version the registry no longer serves, so not --locked.
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &bindgen, false, &path)?;
    ensure_binaryen(&path)?;
    Ok(path)
}

/// Twiggy, for `cargo xtask size`'s attribution of the panel's bytes.
pub fn ensure_twiggy(path: &OsString) -> Result {
    ensure_cargo_tool("twiggy", "twiggy", TWIGGY_VERSION, true, path)
}

/// The `wasm-opt` binaryen installed.
pub fn wasm_opt() -> PathBuf {
    binaryen_dir().join("node_modules/.bin/wasm-opt")
}

/// moto's S3 server in its own virtual environment (pip, pinned); the path of its
/// `moto_server` program.
pub fn ensure_s3_server() -> Result<PathBuf> {
    let venv = python_tool(
        "moto",
        &format!("moto[server]=={MOTO_VERSION}"),
        "import moto, flask_cors; print(moto.__version__)",
        MOTO_VERSION,
    )?;
    Ok(venv.join("bin/moto_server"))
}

/// aiosmtpd, a real SMTP server on localhost for the email tests, in its own virtual
/// environment (pip, pinned); the path of that environment's Python, which runs it as
/// `python -m aiosmtpd`.
pub fn ensure_smtp_server() -> Result<PathBuf> {
    let venv = python_tool(
        "aiosmtpd",
        &format!("aiosmtpd=={AIOSMTPD_VERSION}"),
        "import aiosmtpd; print(aiosmtpd.__version__)",
        AIOSMTPD_VERSION,
    )?;
    Ok(venv.join("bin/python"))
}

/// A Python package from PyPI in a virtual environment of its own under the tools directory,
/// installed unless `check` (Python code) already prints `version` there; the environment.
fn python_tool(name: &str, requirement: &str, check: &str, version: &str) -> Result<PathBuf> {
    let venv = paths::tools_dir().join(format!("{name}-{version}"));
    let python = venv.join("bin/python");
    let installed = output(Command::new(&python).args(["-c", check])).unwrap_or_default();
    if installed.trim() == version {
        return Ok(venv);
    }
    if output(Command::new("python3").args(["-m", "venv", "--help"])).is_none() {
        apt_install(&["python3-venv"], &format!("the tests that run {name}"))?;
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(requirement))?;
    Ok(venv)
}

/// Chromium and its driver for the browser tests: installed with apt when running as root,
/// otherwise the exact command is given.
pub fn ensure_browser() -> Result {
    let present = |tool: &str| output(Command::new(tool).arg("--version")).is_some();
    if present("chromium") && present("chromedriver") {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"], "the browser tests")
}

fn apt_install(packages: &[&str], purpose: &str) -> Result {
    let is_root = output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        return Err(format!(
            "{purpose} need {}; install them with: sudo apt-get install {}",
            packages.join(" and "),
            packages.join(" ")
        ));
    }
    run(Command::new("apt-get").arg("update").arg("-q"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// `~/.cargo/bin` (where `cargo install` puts tools) and binaryen's bin folder go first on PATH.
fn tool_path() -> OsString {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    let mut dirs = vec![
        cargo_home.join("bin"),
        binaryen_dir().join("node_modules/.bin"),
    ];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH entries contain no separator")
}

fn ensure_wasm_target() -> Result {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// Installs `crate_name` at `version` unless `binary --version` already reports it.
fn ensure_cargo_tool(
    binary: &str,
    crate_name: &str,
    version: &str,
    locked: bool,
    path: &OsString,
) -> Result {
    let reported =
        output(Command::new(binary).arg("--version").env("PATH", path)).unwrap_or_default();
    if reported.split_whitespace().nth(1) == Some(version) {
        return Ok(());
    }
    eprintln!(
        "xtask: installing {crate_name} {version} from crates.io (found: {:?})",
        reported.trim()
    );
    let mut install = Command::new("cargo");
    install.args(["install", crate_name, "--version", version]);
    if locked {
        install.arg("--locked");
    }
    // A tool build must not share (and churn) the project's target directory.
    run(install.env_remove("CARGO_TARGET_DIR"))
}

fn binaryen_dir() -> PathBuf {
    paths::tools_dir().join(format!("binaryen-{BINARYEN_VERSION}"))
}

fn ensure_binaryen(path: &OsString) -> Result {
    let wasm_opt = wasm_opt();
    let reported =
        output(Command::new(&wasm_opt).arg("--version").env("PATH", path)).unwrap_or_default();
    if reported.contains(&format!("version {BINARYEN_VERSION}")) {
        return Ok(());
    }
    npm_install(&binaryen_dir(), &format!("binaryen@{BINARYEN_VERSION}"))
}

/// Terser, which minifies the loader as served (the host page fetches it before anyone
/// clicks: its bytes count most); the path of its program.
pub fn ensure_terser() -> Result<PathBuf> {
    Ok(ensure_npm_package("terser", TERSER_VERSION)?.join(".bin/terser"))
}

/// csso, which minifies the launcher's stylesheet the loader carries; the path of its program.
pub fn ensure_csso() -> Result<PathBuf> {
    Ok(ensure_npm_package("csso-cli", CSSO_CLI_VERSION)?.join(".bin/csso"))
}

/// axe-core, which the browser tests inject into the pages they check; the path of its script.
pub fn ensure_axe() -> Result<PathBuf> {
    Ok(ensure_npm_package("axe-core", AXE_CORE_VERSION)?.join("axe-core/axe.min.js"))
}

/// npm's `package` at `version`, installed under the tools folder unless there; the path of
/// the `node_modules` it is in.
fn ensure_npm_package(package: &str, version: &str) -> Result<PathBuf> {
    let dir = paths::tools_dir().join(format!("{package}-{version}"));
    let manifest = dir.join("node_modules").join(package).join("package.json");
    let installed = std::fs::read(&manifest)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|manifest| manifest["version"] == version);
    if !installed {
        npm_install(&dir, &format!("{package}@{version}"))?;
    }
    Ok(dir.join("node_modules"))
}

/// `npm install` of one pinned package into `dir` (npm itself from Debian's packages if need be).
fn npm_install(dir: &Path, package: &str) -> Result {
    if output(Command::new("npm").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"], &format!("npm's {package}"))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .arg(package))
}

/// The version Cargo.lock resolved for `package` (the WASM crates pin it with `=`).
fn lockfile_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(paths::root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let header = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&header)
        .ok_or_else(|| format!("{package} is not in Cargo.lock"))?
        + header.len();
    Ok(lock[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// Trunk.toml must name the same wasm-bindgen as Cargo.lock: a mismatch fails at load time.
fn check_trunk_toml(bindgen: &str) -> Result {
    let trunk_toml = std::fs::read_to_string(paths::root().join("Trunk.toml"))
        .map_err(|e| format!("Trunk.toml: {e}"))?;
    let pinned = format!("wasm_bindgen = \"{bindgen}\"");
    if trunk_toml.contains(&pinned) {
        Ok(())
    } else {
        Err(format!(
            "Trunk.toml must pin `{pinned}` to match Cargo.lock"
        ))
    }
}
