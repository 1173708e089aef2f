//! `metadj-scope`: the command-line edge. Parses arguments, runs one command, and turns any
//! error into a message on stderr and a non-zero exit code.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bevy::prelude::*;
use clap::Parser;
use metadj_scope::cli::{CheckArgs, Cli, Command, PlayArgs};
use metadj_scope::editor::EditorPlugin;
use metadj_scope::output::{self, OutputMode, OutputPlugin};
use metadj_scope::record::{RecordOptions, RecordPlugin};
use metadj_scope::render::CompositorPlugin;
use metadj_scope::showfile::{self, LoadErrors};
use metadj_scope::stats::StatsPlugin;
use metadj_scope::{PlayerPlugin, headless};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Play(args) => play(&args),
        Command::Render(args) => headless::render(&args).map(|files| {
            for f in files {
                println!("{}", f.display());
            }
        }),
        Command::Check(args) => return check(&args),
        Command::Monitors => output::list_monitors().map(|monitors| {
            for m in monitors {
                println!("{m}");
            }
        }),
        Command::Cameras => camera::list()
            .map(|devices| print!("{}", camera::format_list(&devices)))
            .context("listing cameras"),
        Command::ScopeServer(args) => {
            init_logs();
            scope_server::run_standalone(args.port).context("scope-server")
        }
        Command::Bench(args) => bench(&args),
        Command::BenchScope(args) => {
            init_logs();
            bench_scope(args)
        }
        Command::BenchShow(args) => metadj_scope::bench_show::run(&args).and_then(|r| {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{r}");
            }
            Ok(())
        }),
        Command::BenchSegment(args) => {
            metadj_scope::bench_segment::run(&args).map(|report| print!("{report}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr for the commands that do not start Bevy (which installs its own logger).
/// `RUST_LOG` overrides the default `info` level.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,scope=info,scope_server=info,metadj_scope=info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn bench(args: &metadj_scope::bench::BenchArgs) -> anyhow::Result<()> {
    if let Some(show) = &args.previews {
        let report = metadj_scope::bench::run_previews(args, show)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{report}");
        }
        return Ok(());
    }
    let report = metadj_scope::bench::run(args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}

fn bench_scope(args: metadj_scope::bench_scope::BenchScopeArgs) -> anyhow::Result<()> {
    let json = args.json;
    let report = metadj_scope::bench_scope::run(args)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}

/// Prints every problem in the show file; exit code 1 if there is any.
fn check(args: &CheckArgs) -> ExitCode {
    match showfile::load_show(&args.show) {
        Ok(loaded) => {
            println!(
                "{}: ok, {} scenes: {}",
                args.show.display(),
                loaded.show.scenes.len(),
                loaded.scene_names()
            );
            ExitCode::SUCCESS
        }
        Err(LoadErrors(errors)) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{}: {} error(s)", args.show.display(), errors.len());
            ExitCode::FAILURE
        }
    }
}

/// Opens the console and the program window (or, with `--output-only`, just the program) and
/// plays the show until the console is closed (or Esc/Q in output-only mode).
fn play(args: &PlayArgs) -> anyhow::Result<()> {
    if std::env::var_os("DISPLAY").is_none() {
        anyhow::bail!("no X display: DISPLAY is not set (run under xvfb-run for a virtual one)");
    }
    if let Some(path) = &args.screenshot {
        metadj_scope::write::check_writable(path)?;
    }
    let settings = metadj_scope::settings::Settings::load_default().map_err(anyhow::Error::msg)?;
    let surfaces = args.surfaces(&settings).map_err(anyhow::Error::msg)?;
    // Load once up front so a broken file fails here, with every error, before a window opens.
    let loaded = showfile::load_show(&args.show)?;
    let start_scene = match &args.scene {
        Some(name) => loaded.scene_index(name).with_context(|| {
            format!(
                "{}: no scene {name:?} (scenes: {})",
                args.show.display(),
                loaded.scene_names()
            )
        })?,
        None => 0,
    };
    let console = !args.output_only;
    let console_rate = settings
        .console_idle_fps
        .map(metadj_scope::editor::ConsoleRate::from_setting)
        .transpose()
        .map_err(|e| anyhow::anyhow!("settings.ron: {e}"))?
        .unwrap_or_default();
    let mode = if console {
        OutputMode {
            fullscreen: args.output_monitor.is_some(),
            monitor: args.output_monitor,
        }
    } else {
        OutputMode {
            fullscreen: args.fullscreen,
            monitor: args.monitor,
        }
    };
    let title = format!("MetaDJ Scope: {}", args.show.display());
    let window = if console {
        output::console_window_plugin(title)
    } else {
        output::window_plugin(mode, title)
    };
    let mut app = App::new();
    app.insert_resource(console_rate);
    if let Some(after) = args.exit_after {
        app.insert_resource(output::AutoExit {
            after,
            screenshot: args.screenshot.clone(),
        });
    }
    // `--record` records at once; this machine's `record_to` is offered, off, in the console.
    let program_recording = match (&args.record, &settings.record_to) {
        (Some(path), _) => Some((path.clone(), true)),
        (None, Some(path)) if args.streams.record_alpha.is_none() => {
            let path = metadj_scope::cli::parse_recording(&path.to_string_lossy())
                .map_err(|e| anyhow::anyhow!("settings.ron: record_to: {e}"))?;
            Some((path, false))
        }
        _ => None,
    };
    if let Some((path, start)) = program_recording {
        app.add_plugins(RecordPlugin {
            path,
            options: RecordOptions {
                fps: args.record_fps,
                encoding: args.record_encoder,
                ..RecordOptions::default()
            },
            node: None,
            start,
        });
    }
    if let Some((node, path)) = &args.streams.record_alpha {
        if !loaded
            .show
            .scenes
            .iter()
            .any(|s| s.nodes.contains_key(node))
        {
            anyhow::bail!(
                "--record-alpha {node}={}: no scene has a node `{node}`",
                path.display()
            );
        }
        app.add_plugins(RecordPlugin {
            path: path.clone(),
            options: RecordOptions {
                fps: args.record_fps,
                encoding: metadj_scope::record::Encoding::Vp8Alpha,
                ..RecordOptions::default()
            },
            node: Some(node.clone()),
            start: true,
        });
    }
    // The command line's streams, else the settings file's.
    let cli = &args.streams;
    let (program, alpha, from) = if cli.stream.is_empty() && cli.stream_alpha.is_empty() {
        (&settings.streams, &settings.stream_alpha, "settings.ron: ")
    } else {
        (&cli.stream, &cli.stream_alpha, "")
    };
    let streams = metadj_scope::record::stream::specs(program, alpha, cli.stream_allow_remote)
        .map_err(|e| anyhow::anyhow!("{from}{e}"))?;
    for spec in &streams {
        spec.check_node(&loaded.show)
            .map_err(|e| anyhow::anyhow!("{from}{e}"))?;
    }
    if !streams.is_empty() {
        app.add_plugins(metadj_scope::record::StreamPlugin {
            streams,
            options: metadj_scope::record::StreamOptions {
                fps: args.streams.stream_fps,
                ..Default::default()
            },
        });
    }
    let loaded = Arc::new(loaded);
    app.add_plugins(DefaultPlugins.set(window)).add_plugins((
        CompositorPlugin,
        // The compositor's GPU time in the console's status line.
        bevy::render::diagnostic::RenderDiagnosticsPlugin,
        metadj_scope::latency::LatencyPlugin,
        bevy_egui::EguiPlugin::default(),
        PlayerPlugin {
            show: loaded.clone(),
            watch: true,
            start_scene,
            live_clock: true,
        },
        OutputPlugin {
            mode,
            separate_window: console,
        },
        StatsPlugin {
            visible: !args.fullscreen && !console,
        },
    ));
    if let Some(addr) = surfaces.obs_websocket {
        app.add_plugins(metadj_scope::obs_ws::ObsWebSocketPlugin {
            addr,
            password: surfaces.obs_password.clone(),
        });
    }
    app.add_plugins(metadj_scope::midi::MidiPlugin {
        ports: !args.no_midi,
    });
    if let Some(addr) = surfaces.osc {
        app.add_plugins(metadj_scope::osc::OscPlugin {
            addr,
            feedback: surfaces.osc_feedback,
        });
    }
    // The document is the show's one writer, console or not: control surfaces change it too.
    app.add_plugins(EditorPlugin {
        show: loaded,
        ui: console,
    });
    let exit = app.run();
    match exit {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => anyhow::bail!("stopped with error code {code}"),
    }
}
