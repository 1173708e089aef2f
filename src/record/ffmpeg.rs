//! The `ffmpeg` child that muxes (and, for [`Encoding::X264`], encodes) the recording into
//! Matroska. Its stdin is the only data path; its stderr is drained into a short tail so a
//! failure can say what ffmpeg said, and so ffmpeg never blocks on a full stderr pipe.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::recorder::bitrate_kbps;
use super::{Encoding, RecordError};

/// Lines of ffmpeg's stderr kept for error messages.
const TAIL_LINES: usize = 8;

/// Matroska clusters are closed (and flushed to disk) at least this often: a file cut by a
/// crash or `kill -9` loses at most about this much at its end.
const CLUSTER_MS: u32 = 1000;

/// The command line for `encoding` of a `size` picture at `fps` into `path`.
pub(crate) fn args(encoding: Encoding, size: (u32, u32), fps: u32, path: &Path) -> Vec<String> {
    let mut a: Vec<String> = ["-hide_banner", "-loglevel", "error", "-y"]
        .map(String::from)
        .into();
    let s = |v: &str| v.to_string();
    match encoding {
        Encoding::OpenH264 => {
            // Annex-B access units, one per output frame: ffmpeg stamps them 1/fps apart.
            // Without `-analyzeduration 1` ffmpeg reads 5 s of input before writing anything,
            // and a file cut in that time is empty.
            a.extend([s("-analyzeduration"), s("1"), s("-fflags"), s("+genpts")]);
            a.extend([s("-f"), s("h264")]);
            a.extend([s("-framerate"), fps.to_string(), s("-i"), s("pipe:0")]);
            a.extend([s("-c:v"), s("copy")]);
            // openh264 writes no colour description; say BT.601 limited range (what
            // `media::rgba_to_i420` produces) with sRGB primaries and transfer, so players do
            // not guess BT.709 for HD sizes.
            a.extend([
                s("-bsf:v"),
                s(
                    "h264_metadata=colour_primaries=1:transfer_characteristics=13:\
                     matrix_coefficients=6:video_full_range_flag=0",
                ),
            ]);
        }
        Encoding::X264 => {
            a.extend([s("-f"), s("rawvideo"), s("-pix_fmt"), s("rgba")]);
            a.extend([s("-video_size"), format!("{}x{}", size.0, size.1)]);
            a.extend([s("-framerate"), fps.to_string(), s("-i"), s("pipe:0")]);
            a.extend([s("-c:v"), s("libx264"), s("-preset"), s("ultrafast")]);
            a.extend([s("-tune"), s("zerolatency"), s("-crf"), s("20")]);
            a.extend([s("-g"), (fps * 2).to_string(), s("-pix_fmt"), s("yuv420p")]);
            a.extend([s("-colorspace"), s("smpte170m"), s("-color_range"), s("tv")]);
            a.extend([s("-color_primaries"), s("bt709")]);
            a.extend([s("-color_trc"), s("iec61966-2-1")]);
        }
        Encoding::Vp8Alpha => {
            a.extend(vp8_alpha_input_and_codec(size, fps));
            a.extend([s("-g"), (fps * 2).to_string()]);
        }
    }
    // Clusters closed and flushed every second: a file cut by a crash plays to its last one.
    let format = match encoding {
        Encoding::Vp8Alpha => "webm",
        Encoding::OpenH264 | Encoding::X264 => "matroska",
    };
    a.extend([s("-f"), s(format), s("-flush_packets"), s("1")]);
    a.extend([s("-cluster_time_limit"), CLUSTER_MS.to_string()]);
    a.push(path.to_string_lossy().into_owned());
    a
}

/// Raw RGBA from the pipe to ffmpeg's libvpx, VP8 with alpha: what a node's recording and its
/// alpha stream share. VP8 keeps alpha only as `yuva420p` and without alt-ref frames.
pub(crate) fn vp8_alpha_input_and_codec(size: (u32, u32), fps: u32) -> Vec<String> {
    let s = |v: &str| v.to_string();
    let mut a = vec![s("-f"), s("rawvideo"), s("-pix_fmt"), s("rgba")];
    a.extend([s("-video_size"), format!("{}x{}", size.0, size.1)]);
    a.extend([s("-framerate"), fps.to_string(), s("-i"), s("pipe:0")]);
    a.extend([s("-c:v"), s("libvpx"), s("-pix_fmt"), s("yuva420p")]);
    a.extend([s("-auto-alt-ref"), s("0"), s("-deadline"), s("realtime")]);
    a.extend([s("-cpu-used"), s("8"), s("-lag-in-frames"), s("0")]);
    a.extend([s("-b:v"), format!("{}k", bitrate_kbps(size, fps))]);
    a
}

/// A running ffmpeg.
pub(crate) struct Ffmpeg {
    pub(crate) stdin: Option<ChildStdin>,
    child: Arc<Mutex<Child>>,
    tail: Arc<Mutex<VecDeque<String>>>,
    stderr_thread: Option<JoinHandle<()>>,
    path: PathBuf,
    /// Set once ffmpeg has opened its output (it logged `Output #0` at level info): for a
    /// listening stream, a client has connected.
    ready: Arc<AtomicBool>,
}

/// A handle that can kill ffmpeg from another thread (a worker stuck in a write).
#[derive(Clone)]
pub(crate) struct Killer(Arc<Mutex<Child>>);

impl Killer {
    pub(crate) fn kill(&self) {
        if let Ok(mut c) = self.0.lock() {
            // Already gone is fine.
            let _ = c.kill();
        }
    }

    /// ffmpeg's process id (tests cut recordings by killing it).
    pub(crate) fn pid(&self) -> Option<u32> {
        self.0.lock().ok().map(|c| c.id())
    }
}

impl Ffmpeg {
    /// Starts `program` with `args`, writing `path`.
    pub(crate) fn spawn(
        program: &Path,
        args: &[String],
        path: &Path,
    ) -> Result<Ffmpeg, RecordError> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    RecordError::FfmpegMissing {
                        program: program.to_path_buf(),
                    }
                } else {
                    RecordError::Spawn {
                        program: program.to_path_buf(),
                        source,
                    }
                }
            })?;
        let stdin = child.stdin.take();
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let ready = Arc::new(AtomicBool::new(false));
        let stderr_thread = child.stderr.take().and_then(|stderr| {
            let tail = tail.clone();
            let ready = ready.clone();
            std::thread::Builder::new()
                .name("record-ffmpeg-stderr".into())
                .spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        tracing::debug!("ffmpeg: {line}");
                        // Streams log at `level+info` to see this; their info lines are not
                        // what a failure message should quote.
                        let info = line.strip_prefix("[info] ").or_else(|| {
                            // `[libvpx @ 0x…] [info] …`: a component's info line.
                            line.split_once("] [info] ").map(|(_, rest)| rest)
                        });
                        if let Some(info) = info {
                            if info.starts_with("Output #0") {
                                ready.store(true, Ordering::Relaxed);
                            }
                            continue;
                        }
                        if let Ok(mut t) = tail.lock() {
                            if t.len() == TAIL_LINES {
                                t.pop_front();
                            }
                            t.push_back(line);
                        }
                    }
                })
                .ok()
        });
        Ok(Ffmpeg {
            stdin,
            child: Arc::new(Mutex::new(child)),
            tail,
            stderr_thread,
            path: path.to_path_buf(),
            ready,
        })
    }

    /// Whether ffmpeg has opened its output (see [`Ffmpeg::ready`]'s field); needs
    /// `-loglevel level+info`.
    pub(crate) fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// If ffmpeg has exited: why, in its words (the exit status and its last error lines).
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.poll() {
            Ok(Some(status)) => Some(detail(self.failed(status))),
            Ok(None) => None,
            Err(()) => Some("ffmpeg's state cannot be read".into()),
        }
    }

    pub(crate) fn killer(&self) -> Killer {
        Killer(self.child.clone())
    }

    /// Writes to ffmpeg's stdin; a failure means ffmpeg is gone or refused the data.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.stdin {
            Some(s) => s.write_all(bytes),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        }
    }

    /// What ffmpeg last said on stderr, one line.
    fn said(&mut self) -> String {
        // The stderr thread ends when ffmpeg has exited; its last lines are then complete.
        if let Some(t) = self.stderr_thread.take() {
            let _ = t.join();
        }
        self.tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join(" / "))
            .unwrap_or_default()
    }

    /// Closes stdin (ffmpeg then writes the file's end) and waits up to `timeout` for it to
    /// exit, killing it past that. Returns its CPU time (Linux) on success.
    pub(crate) fn finish(mut self, timeout: Duration) -> Result<Option<Duration>, RecordError> {
        self.stdin = None;
        let start = Instant::now();
        let pid = self.killer().pid();
        let mut cpu = None;
        let status: ExitStatus = loop {
            // Read its CPU time while it is a zombie, before `try_wait` reaps it.
            if let Some(pid) = pid
                && let Some((state, time)) = proc_stat(&format!("/proc/{pid}/stat"))
            {
                cpu = Some(time);
                if state != 'Z' && start.elapsed() < timeout {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
            match self.poll() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    self.killer().kill();
                    let _ = self.child.lock().map(|mut c| c.wait());
                    return Err(RecordError::Timeout {
                        path: self.path.clone(),
                        seconds: timeout.as_secs_f32(),
                    });
                }
            }
        };
        if status.success() {
            Ok(cpu)
        } else {
            Err(self.failed(status))
        }
    }

    /// ffmpeg stopped taking data: wait for it (briefly) and say why it stopped.
    pub(crate) fn broke(mut self, write: std::io::Error) -> RecordError {
        self.stdin = None;
        let start = Instant::now();
        loop {
            match self.poll() {
                Ok(Some(status)) => return self.failed(status),
                Ok(None) if start.elapsed() < Duration::from_secs(2) => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    self.killer().kill();
                    let _ = self.child.lock().map(|mut c| c.wait());
                    return RecordError::Mux {
                        path: self.path.clone(),
                        detail: format!("cannot write to ffmpeg: {write}"),
                    };
                }
            }
        }
    }

    /// Whether ffmpeg has exited (reaping it); `Err` when that cannot be told.
    fn poll(&self) -> Result<Option<ExitStatus>, ()> {
        match self.child.lock() {
            Ok(mut c) => c.try_wait().map_err(|_| ()),
            Err(_) => Err(()),
        }
    }

    fn failed(&mut self, status: ExitStatus) -> RecordError {
        let said = self.said();
        let detail = if said.is_empty() {
            format!("ffmpeg ended ({status})")
        } else {
            format!("ffmpeg ended ({status}): {said}")
        };
        RecordError::Mux {
            path: self.path.clone(),
            detail,
        }
    }
}

/// What a [`RecordError`] from ffmpeg says, without the recording's own words.
pub(crate) fn detail(e: RecordError) -> String {
    match e {
        RecordError::Mux { detail, .. } => detail,
        e => e.to_string(),
    }
}

/// (state, user + system CPU time) from a `/proc/PID/stat` (or `/proc/thread-self/stat`) file.
pub(crate) fn proc_stat(file: &str) -> Option<(char, Duration)> {
    let text = std::fs::read_to_string(file).ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux the app runs on.
    Some((state, Duration::from_millis(ticks * 10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_cpu_time() {
        let (state, _) = proc_stat("/proc/thread-self/stat").expect("Linux /proc");
        assert_eq!(state, 'R', "this thread is running");
    }

    #[test]
    fn openh264_input_is_copied_and_x264_encodes_raw_rgba() {
        let p = Path::new("/tmp/o.mkv");
        let copy = args(Encoding::OpenH264, (64, 32), 25, p).join(" ");
        assert!(
            copy.contains("-f h264 -framerate 25 -i pipe:0 -c:v copy"),
            "{copy}"
        );
        assert!(copy.ends_with("-f matroska -flush_packets 1 -cluster_time_limit 1000 /tmp/o.mkv"));
        let x264 = args(Encoding::X264, (64, 32), 30, p).join(" ");
        assert!(
            x264.contains("-pix_fmt rgba -video_size 64x32 -framerate 30"),
            "{x264}"
        );
        assert!(
            x264.contains("-preset ultrafast -tune zerolatency"),
            "{x264}"
        );
    }
}
