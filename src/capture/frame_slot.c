/*
 * frame_slot.c - the latest-frame-wins mailbox (see frame_slot.h).
 */
#include "frame_slot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double cam_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cam_image_reserve(cam_image *img, int w, int h)
{
    size_t need = (size_t)w * (size_t)h * 3;
    if (need > img->capacity) {
        uint8_t *p = realloc(img->rgb, need);
        if (!p)
            return -1;
        img->rgb = p;
        img->capacity = need;
    }
    img->width = w;
    img->height = h;
    return 0;
}

void cam_image_free(cam_image *img)
{
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

int cam_image_copy(cam_image *dst, const cam_image *src)
{
    if (cam_image_reserve(dst, src->width, src->height) != 0)
        return -1;
    memcpy(dst->rgb, src->rgb, (size_t)src->width * src->height * 3);
    dst->frame = src->frame;
    dst->sequence = src->sequence;
    dst->t_capture = src->t_capture;
    dst->t_source = src->t_source;
    return 0;
}

int cam_slot_init(cam_slot *s)
{
    memset(s, 0, sizeof *s);
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    /* Timed waits on the monotonic clock: a wall-clock jump must not stall them. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int r = pthread_cond_init(&s->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (r != 0)
        return -1;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        pthread_cond_destroy(&s->cv);
        return -1;
    }
    return 0;
}

void cam_slot_destroy(cam_slot *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    cam_image_free(&s->img);
}

void cam_slot_put(cam_slot *s, cam_image *img)
{
    pthread_mutex_lock(&s->mu);
    if (s->fresh)
        s->overwritten++;
    cam_image t = s->img;
    s->img = *img;
    *img = t;
    s->fresh = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int cam_slot_put_copy(cam_slot *s, const cam_image *img)
{
    pthread_mutex_lock(&s->mu);
    int r = cam_image_copy(&s->img, img);
    if (r == 0) {
        if (s->fresh)
            s->overwritten++;
        s->fresh = 1;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

int cam_slot_take(cam_slot *s, cam_image *img, int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&s->mu);
    int r = 0;
    while (!s->fresh && !s->closed && timeout_ms != 0) {
        int e = timeout_ms < 0 ? pthread_cond_wait(&s->cv, &s->mu)
                               : pthread_cond_timedwait(&s->cv, &s->mu, &deadline);
        if (e == ETIMEDOUT)
            break;
    }
    if (s->fresh) {
        cam_image t = s->img;
        s->img = *img;
        *img = t;
        s->fresh = 0;
        r = 1;
    } else if (s->closed) {
        r = -1;
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

void cam_slot_close(cam_slot *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}
