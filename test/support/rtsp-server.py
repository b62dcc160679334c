#!/usr/bin/python3
"""A real RTSP camera for the tests: GStreamer's RTSP server bound to 127.0.0.1.

Run with Debian's /usr/bin/python3 (it has gi). Mounts:
  /pattern         live test pattern, H.264, --width x --height at --fps
  /still           a still image (--image, a JPEG) repeated live at --fps
  /video           a video file (--video, H.264 in MP4) passed through without re-encoding
With a password (--password, or FAKE_CAMERA_PASSWORD in the environment, which keeps it out of
the argv that tests search for it) every mount needs basic auth as --user.

Prints "READY <port>" on stdout once listening (port 0 picks a free one). SIGTERM stops it;
the tests also SIGKILL / SIGSTOP / SIGCONT it to play a dead or frozen camera.
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def h264(source: str, width: int, height: int, fps: int) -> str:
    return (
        f"( {source} ! videoconvert ! videoscale ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} "
        "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def factory(launch: str) -> GstRtspServer.RTSPMediaFactory:
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(launch)
    # Not shared: each client gets its own pipeline. A real camera encodes once for every client,
    # but GStreamer 1.22's RTSP server aborts (an assertion in gst_rtsp_media_get_rates) in one
    # start in 15 to 45 where several clients set up one shared media at once, as a daemon's
    # cameras do when it starts. An encoder per client costs a few % of a core at these sizes.
    f.set_shared(False)
    return f


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--fps", type=int, default=5)
    p.add_argument("--image")
    p.add_argument("--video")
    p.add_argument("--user", default="admin")
    p.add_argument("--password", default=os.environ.get("FAKE_CAMERA_PASSWORD"), help="require basic auth as --user on every mount")
    a = p.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))
    mounts = server.get_mount_points()

    pattern = h264("videotestsrc is-live=true pattern=ball", a.width, a.height, a.fps)
    factories = [factory(pattern)]
    mounts.add_factory("/pattern", factories[-1])
    if a.image:
        still = h264(f'filesrc location="{a.image}" ! jpegdec ! imagefreeze is-live=true', a.width, a.height, a.fps)
        factories.append(factory(still))
        mounts.add_factory("/still", factories[-1])
    if a.video:
        # No H.264 decoder in Debian's base GStreamer plugins: pass the file's own stream through.
        # Each client plays the file from its start (factory: not shared).
        video = f'( filesrc location="{a.video}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )'
        factories.append(factory(video))
        mounts.add_factory("/video", factories[-1])

    if a.password:
        # Every mount needs the user. A default token for anonymous clients would make the
        # server answer 404 instead of 401, and FFmpeg sends credentials only after a 401.
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password), token)
        server.set_auth(auth)
        for f in factories:
            perms = GstRtspServer.RTSPPermissions()
            perms.add_role("user")
            perms.add_permission_for_role("user", "media.factory.access", True)
            perms.add_permission_for_role("user", "media.factory.construct", True)
            f.set_permissions(perms)

    if server.attach(None) == 0:
        print("cannot listen on 127.0.0.1:%d" % a.port, file=sys.stderr)
        return 1
    print("READY %d" % server.get_bound_port(), flush=True)

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
