// libcamera (C++17) behind a C interface: camera enumeration and the libcamera frame
// source. libcamera allows one CameraManager per process, so enumeration and every open
// camera share one reference-counted manager.
//
// Capture: the camera is acquired and configured at open (so info() reports what it
// picked); the first start() allocates the buffers, maps their planes (by dmabuf fd,
// bounds-checked) and creates one request per buffer. libcamera's thread runs
// on_complete(), which only moves the newest completed request into a one-slot hand-off
// under a mutex (never waiting for the C side): a request it replaces is re-queued and
// counted as a drop. next() takes the slot (waiting on a condition variable up to its
// timeout), re-queues the request it handed out last time, and builds an ert_frame over
// the mapped planes; MJPEG is decoded into an RGB buffer allocated at start().
#include "lc_shim.h"

#include "embedrt/image.h"

#include <libcamera/camera.h>
#include <libcamera/camera_manager.h>
#include <libcamera/control_ids.h>
#include <libcamera/formats.h>
#include <libcamera/framebuffer_allocator.h>
#include <libcamera/logging.h>
#include <libcamera/property_ids.h>
#include <libcamera/request.h>
#include <libcamera/stream.h>

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

using namespace libcamera;

namespace {

void copy_str(char *dst, size_t cap, const std::string &s)
{
    std::snprintf(dst, cap, "%s", s.c_str());
}

const char *location_name(int32_t loc)
{
    switch (loc) {
    case properties::CameraLocationFront: return "front";
    case properties::CameraLocationBack: return "back";
    case properties::CameraLocationExternal: return "external";
    default: return "";
    }
}

// ---- the process's one CameraManager ----

std::mutex g_cm_mu;
CameraManager *g_cm;
int g_cm_refs;

ert_status cm_acquire(CameraManager **out, ert_error *err)
{
    std::lock_guard<std::mutex> lock(g_cm_mu);
    if (!g_cm) {
        // libcamera logs INFO/WARN lines to stderr by default (and reads its levels from
        // the environment as categories are created); our callers print what matters.
        // A user's own LIBCAMERA_LOG_LEVELS still wins.
        setenv("LIBCAMERA_LOG_LEVELS", "*:ERROR", 0);
        logSetLevel("*", "ERROR");
        auto *cm = new (std::nothrow) CameraManager();
        if (!cm)
            return ert_fail(err, ERT_ENOMEM, "libcamera: cannot allocate the camera manager");
        int ret = cm->start();
        if (ret < 0) {
            delete cm;
            return ert_fail(err, ERT_EIO, "libcamera: camera manager failed to start (%s)", std::strerror(-ret));
        }
        g_cm = cm;
    }
    g_cm_refs++;
    *out = g_cm;
    return ERT_OK;
}

void cm_release()
{
    std::lock_guard<std::mutex> lock(g_cm_mu);
    if (--g_cm_refs == 0) {
        g_cm->stop();
        delete g_cm;
        g_cm = nullptr;
    }
}

// ---- formats ----

struct FormatMap {
    PixelFormat lc;
    ert_pixfmt ert; // 0 for MJPEG (decoded to RGB24)
};

// In the order of preference of ert_source_config.format == 0. DRM names: libcamera's
// BGR888 is R,G,B in memory (our RGB24), RGB888 is B,G,R.
const FormatMap kFormats[] = {
    {formats::BGR888, ERT_PIX_RGB24}, {formats::RGB888, ERT_PIX_BGR24}, {formats::YUV420, ERT_PIX_YUV420},
    {formats::NV12, ERT_PIX_NV12},    {formats::YUYV, ERT_PIX_YUYV},    {formats::R8, ERT_PIX_GRAY8},
    {formats::MJPEG, (ert_pixfmt)0},
};

const FormatMap *find_format(const PixelFormat &f)
{
    for (const auto &m : kFormats)
        if (m.lc == f)
            return &m;
    return nullptr;
}

// The plane count of a format (row sizes: ert_pixfmt_row_bytes in frame.h).
int plane_count(ert_pixfmt f)
{
    return f == ERT_PIX_YUV420 ? 3 : f == ERT_PIX_NV12 ? 2 : 1;
}

struct Mapping {
    int fd;
    void *addr;
    size_t len;
};

struct BufferView {
    const uint8_t *plane[3];
    size_t avail[3]; // bytes from plane[i] to the end of its FrameBuffer plane
};

struct LcSource {
    std::string label; // "libcamera:<spec>"
    std::string id;
    CameraManager *cm = nullptr;
    std::shared_ptr<Camera> cam;
    bool acquired = false, connected = false, running = false, started_once = false;
    std::unique_ptr<CameraConfiguration> config;
    Stream *stream = nullptr;
    std::unique_ptr<FrameBufferAllocator> alloc;
    std::vector<std::unique_ptr<Request>> requests;
    std::vector<Mapping> maps;
    std::vector<BufferView> views; // by request cookie
    ert_pixfmt format = (ert_pixfmt)0; // what next() hands out
    bool mjpeg = false;
    uint32_t width = 0, height = 0, stride[3] = {0, 0, 0};
    double fps = 0, want_fps = 0;
    uint8_t *rgb = nullptr; // MJPEG output
    size_t rgb_cap = 0;
    uint64_t seq_high = 0;
    uint32_t last_seq = 0;
    bool have_seq = false;

    std::mutex mu;
    std::condition_variable cv;
    Request *ready = nullptr; // newest completed request, not yet taken
    Request *held = nullptr;  // handed out by the last next(), re-queued by the following one
    bool stopped = false;

    std::atomic<uint64_t> frames{0}, drops{0}, errors{0}, timeouts{0};

    void on_complete(Request *req);
    void requeue(Request *req);
};

void LcSource::requeue(Request *req)
{
    req->reuse(Request::ReuseBuffers);
    if (cam->queueRequest(req) < 0)
        errors++;
}

// libcamera's thread: never waits on the C side.
void LcSource::on_complete(Request *req)
{
    if (req->status() == Request::RequestCancelled)
        return;
    Request *old;
    {
        std::lock_guard<std::mutex> lock(mu);
        if (stopped)
            return;
        old = ready;
        ready = req;
    }
    cv.notify_one();
    if (old) {
        drops++;
        requeue(old);
    }
}

void unmap_all(LcSource *s)
{
    for (auto &m : s->maps)
        munmap(m.addr, m.len);
    s->maps.clear();
}

void teardown(LcSource *s)
{
    if (s->running) {
        s->cam->stop();
        s->running = false;
    }
    if (s->connected) {
        s->cam->requestCompleted.disconnect(s, &LcSource::on_complete);
        s->connected = false;
    }
    s->requests.clear();
    unmap_all(s);
    s->views.clear();
    if (s->alloc && s->stream)
        s->alloc->free(s->stream);
    s->alloc.reset();
    std::free(s->rgb);
    s->rgb = nullptr;
    if (s->acquired)
        s->cam->release();
    s->acquired = false;
    s->config.reset();
    s->cam.reset();
    if (s->cm)
        cm_release();
    s->cm = nullptr;
}

// Maps every plane of buffer b (several planes may share one dmabuf) and fills its view.
ert_status map_buffer(LcSource *s, const FrameBuffer *b, BufferView *v, ert_error *err)
{
    std::memset(v, 0, sizeof *v);
    const auto &planes = b->planes();
    int need = s->mjpeg ? 1 : plane_count(s->format);
    if (planes.empty() || planes.size() > 3)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: buffer has %zu planes (1..3 expected)", s->label.c_str(),
                        planes.size());
    const uint8_t *base[3] = {nullptr, nullptr, nullptr};
    for (size_t i = 0; i < planes.size(); i++) {
        int fd = planes[i].fd.get();
        if (fd < 0 || planes[i].offset == FrameBuffer::Plane::kInvalidOffset)
            return ert_fail(err, ERT_EFORMAT, "%s: buffer plane %zu has no valid fd/offset", s->label.c_str(), i);
        const Mapping *m = nullptr;
        for (const auto &mm : s->maps)
            if (mm.fd == fd)
                m = &mm;
        if (!m) {
            off_t end = lseek(fd, 0, SEEK_END);
            size_t len = end > 0 ? (size_t)end : 0;
            if (len == 0) // no size from the fd: the extent the planes on it claim
                for (const auto &p : planes)
                    if (p.fd.get() == fd && (size_t)p.offset + p.length > len)
                        len = (size_t)p.offset + p.length;
            void *addr = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
            if (addr == MAP_FAILED)
                return ert_fail(err, ERT_EIO, "%s: cannot map buffer plane %zu (%s)", s->label.c_str(), i,
                                std::strerror(errno));
            s->maps.push_back({fd, addr, len});
            m = &s->maps.back();
        }
        if ((size_t)planes[i].offset > m->len || planes[i].length > m->len - planes[i].offset)
            return ert_fail(err, ERT_EFORMAT, "%s: buffer plane %zu (offset %u, length %u) exceeds its %zu-byte dmabuf",
                            s->label.c_str(), i, planes[i].offset, planes[i].length, m->len);
        base[i] = (const uint8_t *)m->addr + planes[i].offset;
        v->avail[i] = planes[i].length;
    }
    if ((int)planes.size() >= need) {
        for (int p = 0; p < need; p++)
            v->plane[p] = base[p];
    } else if (planes.size() == 1) {
        // All planes of a multi-planar format in one buffer plane, one after the other.
        size_t at = 0;
        for (int p = 0; p < need; p++) {
            size_t bytes = (size_t)s->stride[p] * ert_pixfmt_plane_rows(s->format, s->height, p);
            if (at > v->avail[0])
                return ert_fail(err, ERT_EFORMAT, "%s: buffer of %zu bytes is too small for %s %ux%u",
                                s->label.c_str(), v->avail[0], ert_pixfmt_name(s->format), s->width, s->height);
            v->plane[p] = base[0] + at;
            v->avail[p] = v->avail[0] - at;
            at += bytes;
        }
    } else {
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: %s buffer with %zu planes", s->label.c_str(),
                        ert_pixfmt_name(s->format), planes.size());
    }
    if (s->mjpeg)
        return ERT_OK;
    for (int p = 0; p < need; p++) {
        size_t rows = ert_pixfmt_plane_rows(s->format, s->height, p);
        size_t row = ert_pixfmt_row_bytes(s->format, s->width, p);
        if (s->stride[p] < row || (size_t)s->stride[p] * (rows - 1) + row > v->avail[p])
            return ert_fail(err, ERT_EFORMAT, "%s: plane %d (stride %u, %zu rows of %zu bytes) exceeds its %zu bytes",
                            s->label.c_str(), p, s->stride[p], rows, row, v->avail[p]);
    }
    return ERT_OK;
}

extern "C" ert_status lc_start(void *state, ert_error *err)
{
    auto *s = static_cast<LcSource *>(state);
    if (s->running)
        return ERT_OK;
    if (!s->alloc) {
        s->alloc = std::make_unique<FrameBufferAllocator>(s->cam);
        int ret = s->alloc->allocate(s->stream);
        if (ret < 0)
            return ert_fail(err, ERT_EIO, "%s: cannot allocate capture buffers (%s)", s->label.c_str(),
                            std::strerror(-ret));
        const auto &buffers = s->alloc->buffers(s->stream);
        s->views.resize(buffers.size());
        for (size_t i = 0; i < buffers.size(); i++) {
            ert_status st = map_buffer(s, buffers[i].get(), &s->views[i], err);
            if (st != ERT_OK)
                return st;
            std::unique_ptr<Request> req = s->cam->createRequest(i);
            if (!req || req->addBuffer(s->stream, buffers[i].get()) < 0)
                return ert_fail(err, ERT_EIO, "%s: cannot create capture request %zu", s->label.c_str(), i);
            s->requests.push_back(std::move(req));
        }
        if (s->mjpeg) {
            s->rgb_cap = (size_t)s->width * s->height * 3;
            if (!(s->rgb = (uint8_t *)std::malloc(s->rgb_cap)))
                return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate a %ux%u decode buffer", s->label.c_str(),
                                s->width, s->height);
        }
        s->cam->requestCompleted.connect(s, &LcSource::on_complete);
        s->connected = true;
    }
    ControlList controls(s->cam->controls());
    s->fps = 0;
    if (s->want_fps > 0 && s->cam->controls().count(&controls::FrameDurationLimits)) {
        int64_t us = std::llround(1e6 / s->want_fps);
        controls.set(controls::FrameDurationLimits, {us, us});
        s->fps = s->want_fps;
    }
    {
        std::lock_guard<std::mutex> lock(s->mu);
        s->ready = s->held = nullptr;
        s->stopped = false;
    }
    s->have_seq = false;
    s->seq_high = 0;
    s->frames = s->drops = s->errors = s->timeouts = 0;
    int ret = s->cam->start(&controls);
    if (ret < 0)
        return ert_fail(err, ERT_EIO, "%s: camera failed to start (%s)", s->label.c_str(), std::strerror(-ret));
    s->running = true;
    for (auto &req : s->requests) {
        req->reuse(Request::ReuseBuffers);
        if ((ret = s->cam->queueRequest(req.get())) < 0) {
            s->cam->stop();
            s->running = false;
            return ert_fail(err, ERT_EIO, "%s: cannot queue a capture request (%s)", s->label.c_str(),
                            std::strerror(-ret));
        }
    }
    s->started_once = true;
    return ERT_OK;
}

extern "C" void lc_stop(void *state)
{
    auto *s = static_cast<LcSource *>(state);
    {
        std::lock_guard<std::mutex> lock(s->mu);
        s->stopped = true;
    }
    s->cv.notify_all();
    if (s->running) {
        s->cam->stop(); // completes every queued request as cancelled
        s->running = false;
    }
}

// Builds *f from request req's buffer; false (counted) when the frame is unusable.
bool build_frame(LcSource *s, Request *req, ert_frame *f)
{
    FrameBuffer *fb = req->findBuffer(s->stream);
    if (!fb || req->cookie() >= s->views.size() || fb->metadata().status != FrameMetadata::FrameSuccess)
        return false;
    const BufferView &v = s->views[req->cookie()];
    const FrameMetadata &md = fb->metadata();
    std::memset(f, 0, sizeof *f);
    if (s->mjpeg) {
        auto planes = md.planes();
        size_t used = planes.empty() ? 0 : planes[0].bytesused;
        if (used == 0 || used > v.avail[0])
            return false;
        if (ert_image_decode_into(v.plane[0], used, s->label.c_str(), s->rgb, s->rgb_cap, f, nullptr) != ERT_OK ||
            f->width != s->width || f->height != s->height)
            return false;
    } else {
        f->format = s->format;
        f->width = s->width;
        f->height = s->height;
        for (int p = 0; p < plane_count(s->format); p++) {
            f->stride[p] = s->stride[p];
            f->plane[p] = v.plane[p];
        }
    }
    // 32-bit driver sequence numbers extended to 64 bits across wrap-around.
    if (s->have_seq && md.sequence < s->last_seq)
        s->seq_high += (uint64_t)1 << 32;
    s->last_seq = md.sequence;
    s->have_seq = true;
    f->seq = s->seq_high | md.sequence;
    auto ts = req->metadata().get(controls::SensorTimestamp);
    f->t_capture_ns = ts && *ts > 0 ? (uint64_t)*ts : md.timestamp;
    return true;
}

extern "C" ert_status lc_next(void *state, int timeout_ms, ert_frame *frame, ert_source_result *res, ert_error *err)
{
    auto *s = static_cast<LcSource *>(state);
    *res = ERT_SOURCE_END;
    if (!s->started_once)
        return ert_fail(err, ERT_EINVAL, "%s: next() before start()", s->label.c_str());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        Request *take;
        {
            std::unique_lock<std::mutex> lock(s->mu);
            Request *done = s->held;
            s->held = nullptr;
            if (done && !s->stopped) {
                lock.unlock();
                s->requeue(done);
                lock.lock();
            }
            auto ready = [s] { return s->ready || s->stopped; };
            if (timeout_ms < 0)
                s->cv.wait(lock, ready);
            else
                s->cv.wait_until(lock, deadline, ready);
            if (s->stopped)
                return ERT_OK;
            if (!s->ready) {
                s->timeouts++;
                *res = ERT_SOURCE_TIMEOUT;
                return ERT_OK;
            }
            take = s->ready;
            s->ready = nullptr;
            s->held = take;
        }
        if (build_frame(s, take, frame)) {
            s->frames++;
            *res = ERT_SOURCE_FRAME;
            return ERT_OK;
        }
        s->errors++; // the held request goes back to the camera at the top of the loop
    }
}

extern "C" void lc_close(void *state)
{
    auto *s = static_cast<LcSource *>(state);
    lc_stop(s);
    teardown(s);
    delete s;
}

extern "C" void lc_info(const void *state, ert_source_info *out)
{
    auto *s = static_cast<const LcSource *>(state);
    std::snprintf(out->kind, sizeof out->kind, "libcamera");
    copy_str(out->detail, sizeof out->detail, s->id);
    out->width = s->width;
    out->height = s->height;
    out->format = s->format;
    out->fps = s->fps ? s->fps : s->want_fps;
}

bool all_digits(const char *p)
{
    if (!*p)
        return false;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

std::string offered_formats(const StreamConfiguration &sc)
{
    std::string out;
    for (const auto &f : sc.formats().pixelformats())
        out += (out.empty() ? "" : ", ") + f.toString();
    return out.empty() ? "none" : out;
}

} // namespace

extern "C" const ert_source_ops ert_lc_source_ops = {lc_start, lc_next, lc_stop, lc_close, lc_info};

extern "C" void ert_lc_source_stats(const void *state, ert_source_stats *out)
{
    auto *s = static_cast<const LcSource *>(state);
    out->frames = s->frames;
    out->drops = s->drops;
    out->errors = s->errors;
    out->timeouts = s->timeouts;
}

extern "C" const char *ert_lc_version(void)
{
    return CameraManager::version().c_str();
}

extern "C" ert_status ert_lc_list(ert_camera_info *out, size_t cap, size_t *count, ert_error *err)
{
    *count = 0;
    CameraManager *cm;
    ert_status st = cm_acquire(&cm, err);
    if (st != ERT_OK)
        return st;
    auto cameras = cm->cameras();
    size_t i = 0;
    for (const auto &cam : cameras) {
        if (i < cap) {
            ert_camera_info *info = &out[i];
            std::memset(info, 0, sizeof *info);
            copy_str(info->id, sizeof info->id, cam->id());
            const auto &props = cam->properties();
            if (auto model = props.get(properties::Model))
                copy_str(info->model, sizeof info->model, *model);
            if (auto loc = props.get(properties::Location))
                copy_str(info->location, sizeof info->location, location_name(*loc));
        }
        i++;
    }
    *count = i;
    cameras.clear();
    cm_release();
    return ERT_OK;
}

// Finds, acquires and configures the camera; on failure teardown() undoes what was done.
static ert_status lc_open(LcSource *s, const char *which, const ert_source_config *cfg, ert_error *err)
{
    ert_status st = cm_acquire(&s->cm, err);
    if (st != ERT_OK)
        return st;
    auto cameras = s->cm->cameras();
    if (all_digits(which)) {
        unsigned long idx = std::strtoul(which, nullptr, 10);
        if (std::strlen(which) > 6 || idx >= cameras.size())
            return ert_fail(err, ERT_ENOTFOUND, "libcamera: no camera with index %s (%zu camera%s found)", which,
                            cameras.size(), cameras.size() == 1 ? "" : "s");
        s->cam = cameras[idx];
    } else {
        s->cam = s->cm->get(which);
        if (!s->cam)
            return ert_fail(err, ERT_ENOTFOUND, "libcamera: no camera with id '%.200s' (%zu camera%s found)", which,
                            cameras.size(), cameras.size() == 1 ? "" : "s");
    }
    s->id = s->cam->id();
    if (s->cam->acquire() < 0)
        return ert_fail(err, ERT_EIO, "%s: camera is in use by another process", s->label.c_str());
    s->acquired = true;
    s->config = s->cam->generateConfiguration({StreamRole::VideoRecording});
    if (!s->config || s->config->empty())
        s->config = s->cam->generateConfiguration({StreamRole::Viewfinder});
    if (!s->config || s->config->empty())
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: camera offers no video or viewfinder stream", s->label.c_str());
    StreamConfiguration &sc = s->config->at(0);
    if (cfg->width && cfg->height)
        sc.size = Size(cfg->width, cfg->height);
    const FormatMap *want = nullptr;
    for (const auto &m : kFormats)
        if (cfg->format ? m.ert == cfg->format : true) {
            for (const auto &offered : sc.formats().pixelformats())
                if (offered == m.lc) {
                    want = &m;
                    break;
                }
            if (want)
                break;
        }
    if (!want && !cfg->format)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: camera offers none of BGR888, RGB888, YUV420, NV12, YUYV, R8, MJPEG (it offers %s)",
                        s->label.c_str(), offered_formats(sc).c_str());
    if (want)
        sc.pixelFormat = want->lc; // else: keep the camera's default, validate() may adjust
    uint32_t nbuf = cfg->buffers ? cfg->buffers : 4;
    sc.bufferCount = nbuf > 32 ? 32 : nbuf;
    if (s->config->validate() == CameraConfiguration::Invalid)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: configuration %s is not valid for this camera", s->label.c_str(),
                        sc.toString().c_str());
    const FormatMap *got = find_format(sc.pixelFormat);
    if (!got)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: camera picked %s, which embedrt cannot read (it offers %s)",
                        s->label.c_str(), sc.pixelFormat.toString().c_str(), offered_formats(sc).c_str());
    if (sc.size.width == 0 || sc.size.height == 0 || sc.size.width > 16384 || sc.size.height > 16384)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: frame size %ux%u is outside 1..16384", s->label.c_str(),
                        sc.size.width, sc.size.height);
    int ret = s->cam->configure(s->config.get());
    if (ret < 0)
        return ert_fail(err, ERT_EIO, "%s: configure %s failed (%s)", s->label.c_str(), sc.toString().c_str(),
                        std::strerror(-ret));
    s->stream = sc.stream();
    s->width = sc.size.width;
    s->height = sc.size.height;
    s->mjpeg = got->ert == 0;
    s->format = s->mjpeg ? ERT_PIX_RGB24 : got->ert;
    if (!s->mjpeg) {
        s->stride[0] = sc.stride;
        if (s->format == ERT_PIX_YUV420)
            s->stride[1] = s->stride[2] = sc.stride / 2;
        else if (s->format == ERT_PIX_NV12)
            s->stride[1] = sc.stride;
    }
    s->want_fps = cfg->fps > 0 ? cfg->fps : 0;
    return ERT_OK;
}

extern "C" ert_status ert_lc_source_open(const char *which, const ert_source_config *cfg, ert_source *out,
                                         ert_error *err)
{
    auto *s = new (std::nothrow) LcSource();
    if (!s)
        return ert_fail(err, ERT_ENOMEM, "libcamera:%s: out of memory", which);
    s->label = std::string("libcamera:") + which;
    ert_status st;
    try {
        st = lc_open(s, which, cfg, err);
    } catch (const std::exception &e) {
        st = ert_fail(err, ERT_ENOMEM, "%s: %s", s->label.c_str(), e.what());
    }
    if (st != ERT_OK) {
        teardown(s);
        delete s;
        return st;
    }
    out->ops = &ert_lc_source_ops;
    out->state = s;
    return ERT_OK;
}
