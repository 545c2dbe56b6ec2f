/*
 * frame_slot.h - "latest frame wins": a one-frame mailbox between threads.
 *
 * The camera produces at its rate, the detector consumes at its own (slower)
 * one. A queue between them would grow without bound or add seconds of lag;
 * instead the producer overwrites the single slot and the consumer always
 * gets the newest frame. Frames the consumer never saw are counted.
 *
 * Buffers are swapped, not copied: put() hands the producer's image to the
 * slot and gives back the slot's previous buffer for the next frame; take()
 * does the same for the consumer. So after warm-up no frame allocates, and no
 * lock is held while a frame is converted or detected.
 */
#ifndef BF_CAPTURE_FRAME_SLOT_H
#define BF_CAPTURE_FRAME_SLOT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* A packed RGB image plus where it came from. */
typedef struct cam_image {
    uint8_t *rgb;        /* width * 3 bytes per row, no padding */
    size_t capacity;     /* bytes allocated at rgb */
    int width, height;
    uint64_t frame;      /* the application's count of captured frames, from 0 */
    uint32_t sequence;   /* the driver's sequence number */
    double t_capture;    /* seconds (CLOCK_MONOTONIC) when it was dequeued */
    double t_source;     /* the frame's own time (a stream's pts, seconds), or -1: none */
} cam_image;

/* Makes room for w x h; keeps the memory when it is big enough. 0 or -1 (no memory). */
int cam_image_reserve(cam_image *img, int w, int h);
void cam_image_free(cam_image *img);
/* Copies pixels and metadata; -1 when out of memory. */
int cam_image_copy(cam_image *dst, const cam_image *src);

typedef struct cam_slot {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cam_image img;
    int fresh;            /* img holds a frame nobody has taken yet */
    int closed;
    uint64_t overwritten; /* frames replaced before anyone took them */
} cam_slot;

int cam_slot_init(cam_slot *s);
void cam_slot_destroy(cam_slot *s);

/* Publishes *img (swapped into the slot; *img receives the old buffer). */
void cam_slot_put(cam_slot *s, cam_image *img);
/* Publishes a copy of *img (for a second consumer). -1 when out of memory. */
int cam_slot_put_copy(cam_slot *s, const cam_image *img);

/* Waits up to timeout_ms (0 = just look, < 0 = forever) for a fresh frame and
 * swaps it into *img. Returns 1 (got one), 0 (timed out) or -1 (closed). */
int cam_slot_take(cam_slot *s, cam_image *img, int timeout_ms);

/* Wakes every waiter; later takes return -1 once nothing fresh is left. */
void cam_slot_close(cam_slot *s);

/* CLOCK_MONOTONIC seconds: the time base of every time stamp in the camera code. */
double cam_now(void);

#endif /* BF_CAPTURE_FRAME_SLOT_H */
