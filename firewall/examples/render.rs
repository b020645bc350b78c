//! Print the nft JSON transaction for a config file: `cargo run -p edgeward-firewall --example render -- FILE`.
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "profiles/agency-default.toml".into());
    match edgeward_config::load(std::path::Path::new(&path), edgeward_config::today()) {
        Ok((config, _)) => match edgeward_firewall::render(&config) {
            Ok(r) => println!("{}", r.to_json()),
            Err(e) => eprintln!("{e}"),
        },
        Err(e) => eprintln!("{e}"),
    }
}
