//! Building the browser apps with Trunk into `dist/`, giving the panel's files content-hashed
//! names (the gateway serves those as `immutable`) and writing the loader that names them,
//! then brotli and gzip copies beside each asset (the gateway serves them precompressed).

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::run::{output, run, Result};
use crate::{exports, paths, tools};

/// The browser apps: (folder, public URL under the gateway).
const APPS: &[(&str, &str)] = &[("widget", "/widget/"), ("console", "/console/")];

pub fn build_all(path: &OsString) -> Result {
    let terser = tools::ensure_terser()?;
    let csso = tools::ensure_csso()?;
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
        if *app == "widget" {
            exports::strip_unused(&out.join("widget.js"), &out.join("widget_bg.wasm"))?;
            minify_panel_js(&out, &terser)?;
            write_loader(&out, &terser, &csso)?;
            write_cobrowse(&out, &terser)?;
        }
        compress_dir(&out)?;
    }
    Ok(())
}

/// The panel's files as the loader names them, under `/widget/`.
const PANEL_FILES: [&str; 2] = ["widget.js", "widget_bg.wasm"];

/// Writes `embed.js`, the loader as served: renames each of the panel's files to carry a hash of
/// its content (`widget-1a2b….js`) and names those in the loader; puts the launcher's stylesheet
/// in it, minified by csso (one request before any click, not two); and minifies it all by
/// Terser (its source's names and layout are for its readers; the host page fetches it before
/// anyone clicks, so its bytes count most). A browser may then keep the panel for ever, and a new
/// build is new names.
fn write_loader(dir: &Path, terser: &Path, csso: &Path) -> Result {
    let source = paths::root().join("widget/loader/embed.js");
    let mut loader =
        std::fs::read_to_string(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    for name in PANEL_FILES {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let hashed = hashed_name(name, &bytes);
        std::fs::rename(&path, dir.join(&hashed))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        loader = replace_once(
            &loader,
            &format!("'/widget/{name}'"),
            &format!("'/widget/{hashed}'"),
        )?;
    }
    let css = output(Command::new(csso).arg(paths::root().join("widget/loader/launcher.css")))
        .ok_or("csso could not minify widget/loader/launcher.css")?;
    loader = replace_once(&loader, LAUNCHER_CSS, &js_string(css.trim()))?;
    let named = dir.join("embed.source.js");
    std::fs::write(&named, &loader).map_err(|e| format!("{}: {e}", named.display()))?;
    run(Command::new(terser)
        .arg(&named)
        .args(["--compress", "--mangle", "--output"])
        .arg(dir.join("embed.js")))?;
    std::fs::remove_file(&named).map_err(|e| format!("{}: {e}", named.display()))
}

/// The co-browse module's file, as the panel fetches it when the visitor accepts an agent's
/// request (`/widget/cobrowse.js`), minified; never part of the panel.
pub const COBROWSE_MODULE: &str = "cobrowse.js";

fn write_cobrowse(dir: &Path, terser: &Path) -> Result {
    run(Command::new(terser)
        .arg(paths::root().join("widget/cobrowse").join(COBROWSE_MODULE))
        .args(["--module", "--compress", "--mangle", "--output"])
        .arg(dir.join(COBROWSE_MODULE)))
}

/// What the loader's source says where the launcher's stylesheet goes.
const LAUNCHER_CSS: &str = "LAUNCHER_CSS";

/// `loader` with `what`, which it must say exactly once, replaced by `by`.
fn replace_once(loader: &str, what: &str, by: &str) -> Result<String> {
    if loader.matches(what).count() != 1 {
        return Err(format!(
            "widget/loader/embed.js must say {what} exactly once"
        ));
    }
    Ok(loader.replacen(what, by, 1))
}

/// `text` as a JavaScript string literal (JSON's, which JavaScript reads the same).
fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Minifies the panel's JavaScript in place, as the loader is: wasm-bindgen's glue (written for
/// reading: comments, long local names; about 1.2 KB brotli of the panel) and the snippets it
/// imports. Names the WebAssembly imports by are properties, which Terser leaves alone.
fn minify_panel_js(dir: &Path, terser: &Path) -> Result {
    let glue = dir.join("widget.js");
    let source = std::fs::read_to_string(&glue).map_err(|e| format!("{}: {e}", glue.display()))?;
    let snippets: Vec<std::path::PathBuf> =
        imported_snippets(&source).map(|s| dir.join(s)).collect();
    for file in std::iter::once(glue).chain(snippets) {
        run(Command::new(terser)
            .arg(&file)
            .args(["--module", "--compress", "--mangle", "--output"])
            .arg(&file))?;
    }
    Ok(())
}

/// The `./snippets/…` modules a JS file imports (`from './…'` or, minified, `from"./…"`), as
/// paths relative to its folder, each once.
pub fn imported_snippets(js: &str) -> impl Iterator<Item = &str> + '_ {
    let mut found: Vec<&str> = js
        .split("from")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start();
            let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            rest[1..].split(quote).next()
        })
        .filter_map(|module| module.strip_prefix("./"))
        .filter(|module| module.starts_with("snippets/"))
        .collect();
    found.sort_unstable();
    found.dedup();
    found.into_iter()
}

/// `widget_bg.wasm` → `widget_bg-<16 hex digits of its SHA-256>.wasm`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    format!("{stem}-{hash}.{ext}")
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

#[cfg(test)]
mod tests {
    use super::imported_snippets;

    #[test]
    fn only_the_snippets_the_glue_imports_are_the_panels_however_it_is_quoted() {
        let glue = "import { solveCaptcha } from './snippets/widget-1a/src/captcha.js';\n\
                    import * as import1 from \"./snippets/widget-1a/src/form.js\"\n\
                    import * as wasm from './widget_bg.wasm';\n\
                    export function mount(root) {}\n";
        let snippets: Vec<&str> = imported_snippets(glue).collect();
        assert_eq!(
            snippets,
            [
                "snippets/widget-1a/src/captcha.js",
                "snippets/widget-1a/src/form.js"
            ]
        );
        let minified = "import{ask as e}from\"./snippets/w/src/form.js\";import*as t from\"./snippets/w/src/form.js\";";
        assert_eq!(
            imported_snippets(minified).collect::<Vec<_>>(),
            ["snippets/w/src/form.js"]
        );
        assert_eq!(imported_snippets("export const x = 1;").count(), 0);
    }
}
