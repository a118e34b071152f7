//! Building the browser apps with Trunk into `dist/`, writing brotli and gzip copies beside each
//! asset (the gateway serves them precompressed), and reporting the sizes.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::paths;
use crate::run::{run, Result};

/// The browser apps: (folder, public URL under the gateway).
const APPS: &[(&str, &str)] = &[("widget", "/widget/"), ("console", "/console/")];

pub fn build_all(path: &OsString) -> Result {
    for (app, public_url) in APPS {
        let out = paths::dist_dir().join(app);
        run(Command::new("trunk")
            .args([
                "build",
                "--release",
                "--offline=true",
                "--public-url",
                public_url,
                "--dist",
            ])
            .arg(&out)
            .arg(paths::root().join(app).join("index.html"))
            .current_dir(paths::root())
            .env("PATH", path)
            .env("CARGO_TARGET_DIR", paths::wasm_target_dir())
            // Size first for what crosses the network; the native release profile stays fast.
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
            .env("CARGO_PROFILE_RELEASE_LTO", "true")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
            .env("CARGO_PROFILE_RELEASE_PANIC", "abort"))?;
        compress_dir(&out)?;
    }
    Ok(())
}

fn compress_dir(dir: &Path) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if matches!(ext, "wasm" | "js" | "css" | "html") {
            let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            write(&path, "br", &brotli_bytes(&raw))?;
            write(&path, "gz", &gzip_bytes(&raw))?;
        }
    }
    Ok(())
}

fn write(path: &Path, suffix: &str, bytes: &[u8]) -> Result {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    std::fs::write(&name, bytes).map_err(|e| format!("{}: {e}", Path::new(&name).display()))
}

pub fn brotli_bytes(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params).expect("in-memory brotli");
    out
}

pub fn gzip_bytes(raw: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw).expect("in-memory gzip");
    encoder.finish().expect("in-memory gzip")
}

/// Prints what a visitor's browser downloads: the loader before any click, the panel after.
pub fn report() {
    let widget = paths::dist_dir().join("widget");
    let files = [
        (
            "embed.js (loader, before any click)",
            paths::root().join("widget/loader/embed.js"),
        ),
        ("widget_bg.wasm", widget.join("widget_bg.wasm")),
        ("widget.js (wasm-bindgen glue)", widget.join("widget.js")),
        ("widget.css", widget.join("widget.css")),
    ];
    eprintln!("\nwidget sizes (bytes)          raw     brotli       gzip");
    let mut panel = (0, 0, 0);
    for (i, (name, path)) in files.iter().enumerate() {
        let Ok(raw) = std::fs::read(path) else {
            continue;
        };
        let sizes = (raw.len(), brotli_bytes(&raw).len(), gzip_bytes(&raw).len());
        eprintln!("{name:<36} {:>8} {:>10} {:>10}", sizes.0, sizes.1, sizes.2);
        if i > 0 {
            panel = (panel.0 + sizes.0, panel.1 + sizes.1, panel.2 + sizes.2);
        }
    }
    eprintln!(
        "{:<36} {:>8} {:>10} {:>10}\n",
        "panel total (after the click)", panel.0, panel.1, panel.2
    );
}
