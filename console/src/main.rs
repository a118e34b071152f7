//! Mounts the console on the page Trunk builds from `index.html`.

fn main() {
    leptos::mount::mount_to_body(console::app);
}
