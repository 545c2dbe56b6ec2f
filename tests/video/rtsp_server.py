#!/usr/bin/env python3
"""A one-path RTSP server for the video tests: GStreamer's RTSP server library
(Debian 12: gir1.2-gst-rtsp-server-1.0, python3-gi) serving an H.264 .mp4 at
rtsp://127.0.0.1:PORT/x in real time, as an IP camera does (RTP/H.264, the
client picks UDP or TCP; `bitfalcon camera` asks for TCP).

    rtsp_server.py CLIP.mp4 [--port P]

Prints "listening PORT" on stdout (flushed) once the socket listens, so that a
test waits for that line, not for a fixed time. --port 0 (default) takes a free
port; a restart passes the port it printed to come back at the same address.
Each client gets its own pipeline (the file from its start); at the file's end
the stream ends (RTSP clients see it end). Runs until killed.

Exit status 77 when the GStreamer bindings or elements are missing (the test
then skips).
"""
import argparse
import sys

SKIP = 77


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("clip", help="an H.264 .mp4 (ffmpeg -c:v libx264)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: a free one)")
    a = p.parse_args()
    try:
        import gi
        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtsp", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
    except (ImportError, ValueError) as e:
        print("no GStreamer RTSP server bindings: %s" % e, flush=True)
        return SKIP
    Gst.init(None)
    missing = [e for e in ("filesrc", "qtdemux", "h264parse", "rtph264pay")
               if Gst.ElementFactory.find(e) is None]
    if missing:
        print("no GStreamer element(s) %s" % ", ".join(missing), flush=True)
        return SKIP
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    # The path goes into a launch line: quote it as GStreamer's parser wants.
    loc = '"%s"' % a.clip.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch("( filesrc location=%s ! qtdemux ! h264parse ! "
                       "rtph264pay name=pay0 pt=96 config-interval=-1 )" % loc)
    factory.set_shared(False)
    server.get_mount_points().add_factory("/x", factory)

    # Each SETUP's Transport header on stdout ("setup RTP/AVP/TCP;unicast;interleaved=0-1"):
    # the test checks that the camera asks for TCP (rtsp_transport=tcp).
    def on_setup(client, ctx):
        ok, transport = ctx.request.get_header(GstRtsp.RTSPHeaderField.TRANSPORT, 0)
        print("setup %s" % (transport if ok == GstRtsp.RTSPResult.OK else "(no Transport header)"),
              flush=True)

    server.connect("client-connected", lambda srv, client: client.connect("setup-request", on_setup))
    if server.attach(None) == 0:
        print("cannot listen on 127.0.0.1:%d" % a.port, flush=True)
        return 1
    print("listening %d" % server.get_bound_port(), flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
