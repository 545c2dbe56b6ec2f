/*
 * window.c - the SDL2 live view (see window.h).
 */
#include "window.h"

#include <SDL.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "say.h"

typedef struct text_tex {
    SDL_Texture *tex;
    char text[256];
    int scale;
    int w, h;
} text_tex;

struct cam_window {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *video;
    int tex_w, tex_h;
    text_tex status, banner;
};

void cam_letterbox_rect(int win_w, int win_h, int img_w, int img_h, int *x, int *y, int *w, int *h)
{
    if (img_w <= 0 || img_h <= 0 || win_w <= 0 || win_h <= 0) {
        *x = *y = 0;
        *w = win_w > 0 ? win_w : 0;
        *h = win_h > 0 ? win_h : 0;
        return;
    }
    /* Compare win_w/win_h with img_w/img_h without rounding: cross-multiply. */
    if ((long long)win_w * img_h >= (long long)win_h * img_w) { /* window wider: bars left+right */
        *h = win_h;
        *w = (int)(((long long)win_h * img_w + img_h / 2) / img_h);
    } else { /* window taller: bars top+bottom */
        *w = win_w;
        *h = (int)(((long long)win_w * img_h + img_w / 2) / img_w);
    }
    *x = (win_w - *w) / 2;
    *y = (win_h - *h) / 2;
}

int cam_window_open(const char *title, int w, int h, cam_window **out, char *why, size_t len)
{
    /* The application handles SIGINT/SIGTERM itself (sigaction + a flag). */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        cam_say(why, len, "cannot start SDL video (%s); use --headless without a display", SDL_GetError());
        return -1;
    }
    cam_window *cw = calloc(1, sizeof *cw);
    if (!cw) {
        SDL_Quit();
        cam_say(why, len, "out of memory");
        return -1;
    }
    /* With the offscreen driver (no display: frames only reach --screenshot)
     * an accelerated renderer, and the texture SDL would put behind the
     * window's surface, are Mesa's llvmpipe, which JIT-compiles shaders to
     * draw the same pixels in software. SDL's own software renderer into the
     * driver's plain framebuffer does it without the JIT's start-up (and
     * without the JIT, which crashes under ASan in qemu-user). At default
     * priority, so SDL_RENDER_DRIVER and SDL_FRAMEBUFFER_ACCELERATION win. */
    const char *video_driver = SDL_GetCurrentVideoDriver();
    if (video_driver && strcmp(video_driver, "offscreen") == 0) {
        SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "software", SDL_HINT_DEFAULT);
        SDL_SetHintWithPriority(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0", SDL_HINT_DEFAULT);
    }
    cw->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                               SDL_WINDOW_RESIZABLE);
    if (cw->win) {
        cw->ren = SDL_CreateRenderer(cw->win, -1, 0);
        if (!cw->ren) /* e.g. no GPU driver: the software renderer always works */
            cw->ren = SDL_CreateRenderer(cw->win, -1, SDL_RENDERER_SOFTWARE);
    }
    if (!cw->win || !cw->ren) {
        cam_say(why, len, "cannot create the window: %s", SDL_GetError());
        cam_window_close(cw);
        return -1;
    }
    *out = cw;
    return 0;
}

static void free_text(text_tex *t)
{
    if (t->tex)
        SDL_DestroyTexture(t->tex);
    memset(t, 0, sizeof *t);
}

void cam_window_close(cam_window *cw)
{
    if (!cw)
        return;
    free_text(&cw->status);
    free_text(&cw->banner);
    if (cw->video)
        SDL_DestroyTexture(cw->video);
    if (cw->ren)
        SDL_DestroyRenderer(cw->ren);
    if (cw->win)
        SDL_DestroyWindow(cw->win);
    free(cw);
    SDL_Quit();
}

void cam_window_size(cam_window *cw, int *w, int *h)
{
    if (SDL_GetRendererOutputSize(cw->ren, w, h) != 0)
        SDL_GetWindowSize(cw->win, w, h);
}

static cam_action key_action(SDL_Keycode k)
{
    switch (k) {
    case SDLK_q:
    case SDLK_ESCAPE:
        return CAM_ACTION_QUIT;
    case SDLK_SPACE:
        return CAM_ACTION_PAUSE;
    case SDLK_s:
        return CAM_ACTION_SNAPSHOT;
    case SDLK_PLUS:
    case SDLK_EQUALS: /* '+' without shift on most layouts */
    case SDLK_KP_PLUS:
        return CAM_ACTION_CONF_UP;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        return CAM_ACTION_CONF_DOWN;
    default:
        return CAM_ACTION_NONE;
    }
}

int cam_window_push_key(cam_window *cw, const char *name)
{
    static const struct {
        const char *name;
        SDL_Keycode key;
    } keys[] = {{"q", SDLK_q}, {"esc", SDLK_ESCAPE}, {"space", SDLK_SPACE}, {"s", SDLK_s},
                {"+", SDLK_PLUS}, {"=", SDLK_EQUALS}, {"-", SDLK_MINUS}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(name, keys[i].name) != 0)
            continue;
        SDL_Event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SDL_KEYDOWN;
        ev.key.windowID = SDL_GetWindowID(cw->win);
        ev.key.state = SDL_PRESSED;
        ev.key.keysym.sym = keys[i].key;
        return SDL_PushEvent(&ev) == 1 ? 0 : -1;
    }
    return -1;
}

cam_action cam_window_poll(cam_window *cw, int timeout_ms)
{
    (void)cw;
    SDL_Event ev;
    int got = timeout_ms > 0 ? SDL_WaitEventTimeout(&ev, timeout_ms) : SDL_PollEvent(&ev);
    while (got) {
        switch (ev.type) {
        case SDL_QUIT:
            return CAM_ACTION_QUIT;
        case SDL_KEYDOWN: {
            cam_action a = key_action(ev.key.keysym.sym);
            if (a != CAM_ACTION_NONE)
                return a;
            break;
        }
        case SDL_WINDOWEVENT:
            if (ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
                ev.window.event == SDL_WINDOWEVENT_EXPOSED)
                return CAM_ACTION_REDRAW;
            break;
        default:
            break;
        }
        got = SDL_PollEvent(&ev); /* skip uninteresting events without waiting again */
    }
    return CAM_ACTION_NONE;
}

/* Renders text (light on a dark band) into a texture, only when it changed. */
static int update_text(cam_window *cw, text_tex *t, const char *text, int scale, bfio_rgb fg,
                       bfio_rgb bg)
{
    if (t->tex && t->scale == scale && strcmp(t->text, text) == 0)
        return 0;
    free_text(t);
    int pad = 2 * scale;
    int w = bfio_text_width(text, scale) + 2 * pad, h = bfio_text_height(scale) + 2 * pad;
    bfio_image img = {NULL, w, h, (size_t)w * 3};
    img.pixels = malloc(img.stride * (size_t)h);
    if (!img.pixels)
        return -1;
    bfio_fill_rect(&img, 0, 0, w, h, bg);
    bfio_draw_text(&img, pad, pad, text, scale, fg);
    t->tex = SDL_CreateTexture(cw->ren, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STATIC, w, h);
    int r = t->tex ? SDL_UpdateTexture(t->tex, NULL, img.pixels, (int)img.stride) : -1;
    free(img.pixels);
    if (r != 0) {
        free_text(t);
        return -1;
    }
    snprintf(t->text, sizeof t->text, "%s", text);
    t->scale = scale;
    t->w = w;
    t->h = h;
    return 0;
}

static int save_screenshot(cam_window *cw, int ow, int oh, const char *path, char *why, size_t len)
{
    size_t pitch = (size_t)ow * 3;
    uint8_t *buf = malloc(pitch * (size_t)oh);
    if (!buf) {
        cam_say(why, len, "out of memory");
        return -1;
    }
    int r = -1;
    SDL_Surface *s = NULL;
    if (SDL_RenderReadPixels(cw->ren, NULL, SDL_PIXELFORMAT_RGB24, buf, (int)pitch) != 0)
        cam_say(why, len, "cannot read the window back: %s", SDL_GetError());
    else if (!(s = SDL_CreateRGBSurfaceWithFormatFrom(buf, ow, oh, 24, (int)pitch, SDL_PIXELFORMAT_RGB24)))
        cam_say(why, len, "%s", SDL_GetError());
    else if (SDL_SaveBMP(s, path) != 0)
        cam_say(why, len, "cannot write %s: %s", path, SDL_GetError());
    else
        r = 0;
    if (s)
        SDL_FreeSurface(s);
    free(buf);
    return r;
}

int cam_window_show(cam_window *cw, const uint8_t *rgb, int w, int h, const char *status,
                    const char *banner, const char *screenshot, char *why, size_t len)
{
    if (rgb) {
        if (!cw->video || cw->tex_w != w || cw->tex_h != h) {
            if (cw->video)
                SDL_DestroyTexture(cw->video);
            cw->video = SDL_CreateTexture(cw->ren, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING, w, h);
            if (!cw->video) {
                cam_say(why, len, "cannot create a %dx%d texture: %s", w, h, SDL_GetError());
                return -1;
            }
            cw->tex_w = w;
            cw->tex_h = h;
        }
        if (SDL_UpdateTexture(cw->video, NULL, rgb, w * 3) != 0) {
            cam_say(why, len, "cannot upload the frame: %s", SDL_GetError());
            return -1;
        }
    }
    int ow, oh;
    cam_window_size(cw, &ow, &oh);
    SDL_SetRenderDrawColor(cw->ren, 0, 0, 0, 255);
    SDL_RenderClear(cw->ren);
    if (cw->video) {
        SDL_Rect dst;
        cam_letterbox_rect(ow, oh, cw->tex_w, cw->tex_h, &dst.x, &dst.y, &dst.w, &dst.h);
        SDL_RenderCopy(cw->ren, cw->video, NULL, &dst);
    }
    /* Scale 2 when the line fits the window, else 1 (small windows). */
    int small = status && bfio_text_width(status, 2) + 8 <= ow ? 2 : 1;
    if (status && *status &&
        update_text(cw, &cw->status, status, small, (bfio_rgb){235, 235, 235}, (bfio_rgb){24, 24, 24}) == 0) {
        /* Bottom-left: labels sit above their boxes, so the top is where they crowd. */
        SDL_Rect r = {0, oh - cw->status.h, cw->status.w, cw->status.h};
        SDL_RenderCopy(cw->ren, cw->status.tex, NULL, &r);
    }
    if (banner && *banner &&
        update_text(cw, &cw->banner, banner, small + 1, (bfio_rgb){255, 255, 255}, (bfio_rgb){160, 20, 20}) == 0) {
        SDL_Rect r = {(ow - cw->banner.w) / 2, (oh - cw->banner.h) / 2, cw->banner.w, cw->banner.h};
        SDL_RenderCopy(cw->ren, cw->banner.tex, NULL, &r);
    }
    int rc = 0;
    if (screenshot)
        rc = save_screenshot(cw, ow, oh, screenshot, why, len);
    SDL_RenderPresent(cw->ren);
    return rc;
}
