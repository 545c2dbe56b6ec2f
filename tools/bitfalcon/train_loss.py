"""Losses for BitFalcon QAT: distillation from the fp32 teacher and the YOLOv8 detection loss.

Head outputs are the raw per-level lists of `YOLOv8Bit.forward`: [(box [B,4*R,H,W],
cls [B,nc,H,W])] for strides 8, 16, 32.

* `cls_distill`  BCE of the student class logits against the teacher's sigmoid, minus the
                 teacher's entropy (= Bernoulli KL, 0 when equal), summed over classes,
                 averaged over every anchor location.
* `dfl_distill`  KL(teacher || student) of the 4 x reg_max box distributions, weighted per
                 location by the teacher's max class probability.
* `feat_distill` squared error normalised by the teacher's mean square (per tensor).
* `DetectionLoss` the Ultralytics YOLOv8 loss: task-aligned assigner (topk 10, alpha 0.5,
                 beta 6), BCE class loss, CIoU box loss, DFL; gains box 7.5, cls 0.5, dfl 1.5.
* `teacher_pseudo_boxes` the teacher's detections as boxes for `DetectionLoss` on unlabeled images.
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F

Heads = List[Tuple[torch.Tensor, torch.Tensor]]
STRIDES = (8, 16, 32)


def heads_of(outs: Heads, images: torch.Tensor) -> Heads:
    """The head outputs of some images of the batch (indices `images`)."""
    return [(b[images], c[images]) for b, c in outs]


def flatten_heads(outs: Heads, reg_max: int = 16) -> Tuple[torch.Tensor, torch.Tensor]:
    """-> box logits [B, A, 4*R], class logits [B, A, nc] (levels in order, row-major)."""
    box = torch.cat([b.flatten(2) for b, _ in outs], 2).transpose(1, 2)
    cls = torch.cat([c.flatten(2) for _, c in outs], 2).transpose(1, 2)
    return box, cls


def cls_distill(s: Heads, t: Heads, norm: str = "anchors") -> torch.Tensor:
    """norm "anchors": mean over every anchor (a batch's ~160 confident anchors among 16,800
    then carry ~3% of the gradient); "mass": divided by the teacher's confident mass (sum over
    anchors of its max class probability), the normalisation of `dfl_distill`."""
    _, sc = flatten_heads(s)
    _, tc = flatten_heads(t)
    p = torch.sigmoid(tc.float())
    bce = F.binary_cross_entropy_with_logits(sc.float(), p, reduction="none")
    ent = F.binary_cross_entropy_with_logits(tc.float(), p, reduction="none")
    kl = (bce - ent).sum(-1)                                      # [B, A]
    if norm == "mass":
        return kl.sum() / p.amax(-1).sum().clamp_min(1.0)
    return kl.mean()


def dfl_distill(s: Heads, t: Heads, reg_max: int = 16, temperature: float = 1.0) -> torch.Tensor:
    sb, _ = flatten_heads(s)
    tb, tc = flatten_heads(t)
    B, A, _ = sb.shape
    ls = F.log_softmax(sb.float().view(B, A, 4, reg_max) / temperature, -1)
    lt = F.log_softmax(tb.float().view(B, A, 4, reg_max) / temperature, -1)
    kl = (lt.exp() * (lt - ls)).sum(-1).sum(-1)                   # [B, A]
    w = torch.sigmoid(tc.float()).amax(-1)                        # teacher objectness proxy
    return (kl * w).sum() / w.sum().clamp_min(1e-6) * temperature ** 2


def feat_distill(s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    t = t.float()
    return (s.float() - t).pow(2).mean() / t.pow(2).mean().clamp_min(1e-6)


# ---------------------------------------------------------------------------------------------
# YOLOv8 detection loss (task-aligned assigner)

def make_anchors(outs: Heads, strides: Sequence[int] = STRIDES) -> Tuple[torch.Tensor, torch.Tensor]:
    pts, st = [], []
    for (b, _), s in zip(outs, strides):
        h, w = b.shape[2:]
        sy, sx = torch.meshgrid(torch.arange(h, device=b.device) + 0.5, torch.arange(w, device=b.device) + 0.5,
                                indexing="ij")
        pts.append(torch.stack([sx, sy], -1).view(-1, 2))
        st.append(torch.full((h * w, 1), float(s), device=b.device))
    return torch.cat(pts).float(), torch.cat(st).float()


def bbox_iou(a: torch.Tensor, b: torch.Tensor, ciou: bool = False, eps: float = 1e-7) -> torch.Tensor:
    """IoU (or CIoU) of xyxy boxes, broadcasting over the leading dims; last dim 4."""
    ax0, ay0, ax1, ay1 = a.unbind(-1)
    bx0, by0, bx1, by1 = b.unbind(-1)
    w1, h1 = ax1 - ax0, (ay1 - ay0).clamp_min(eps)
    w2, h2 = bx1 - bx0, (by1 - by0).clamp_min(eps)
    inter = (torch.minimum(ax1, bx1) - torch.maximum(ax0, bx0)).clamp_min(0) * \
            (torch.minimum(ay1, by1) - torch.maximum(ay0, by0)).clamp_min(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    if not ciou:
        return iou
    cw = torch.maximum(ax1, bx1) - torch.minimum(ax0, bx0)
    ch = torch.maximum(ay1, by1) - torch.minimum(ay0, by0)
    c2 = cw.pow(2) + ch.pow(2) + eps
    rho2 = ((bx0 + bx1 - ax0 - ax1).pow(2) + (by0 + by1 - ay0 - ay1).pow(2)) / 4
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


class TaskAlignedAssigner:
    def __init__(self, topk: int = 10, num_classes: int = 80, alpha: float = 0.5, beta: float = 6.0, eps: float = 1e-9):
        self.topk, self.nc, self.alpha, self.beta, self.eps = topk, num_classes, alpha, beta, eps

    @torch.no_grad()
    def __call__(self, pd_scores, pd_bboxes, anc_points, gt_labels, gt_bboxes, mask_gt):
        """pd_scores [B,A,nc] (probabilities), pd_bboxes [B,A,4] xyxy px, anc_points [A,2] px,
        gt_labels [B,M] long, gt_bboxes [B,M,4] px, mask_gt [B,M] bool.
        -> target_labels [B,A], target_bboxes [B,A,4], target_scores [B,A,nc], fg_mask [B,A] bool."""
        B, A, nc = pd_scores.shape
        M = gt_bboxes.shape[1]
        dev = pd_scores.device
        if M == 0 or not bool(mask_gt.any()):
            return (torch.zeros(B, A, dtype=torch.long, device=dev), torch.zeros(B, A, 4, device=dev),
                    torch.zeros(B, A, nc, device=dev), torch.zeros(B, A, dtype=torch.bool, device=dev))
        x, y = anc_points[:, 0], anc_points[:, 1]
        g = gt_bboxes[:, :, None, :]                                           # [B,M,1,4]
        d = torch.stack([x - g[..., 0], y - g[..., 1], g[..., 2] - x, g[..., 3] - y], -1)
        in_gts = d.amin(-1) > 1e-9                                              # [B,M,A]
        mask = in_gts & mask_gt[:, :, None]
        ious = bbox_iou(gt_bboxes[:, :, None, :], pd_bboxes[:, None, :, :]).clamp_min(0)   # [B,M,A]
        ious = torch.where(mask, ious, torch.zeros_like(ious))
        lab = gt_labels.clamp(0, nc - 1)
        sc = torch.gather(pd_scores.transpose(1, 2), 1, lab[:, :, None].expand(B, M, A))  # [B,M,A]
        sc = torch.where(mask, sc, torch.zeros_like(sc))
        align = sc.pow(self.alpha) * ious.pow(self.beta)
        k = min(self.topk, A)
        top_idx = align.topk(k, dim=-1).indices                                  # [B,M,k]
        topk_mask = torch.zeros_like(mask).scatter_(-1, top_idx, True)
        mask_pos = topk_mask & mask
        fg_count = mask_pos.sum(1)                                               # [B,A]
        if bool((fg_count > 1).any()):
            multi = (fg_count > 1)[:, None, :].expand(B, M, A)
            best = ious.argmax(1)                                                # [B,A]
            best_mask = torch.zeros_like(mask_pos).scatter_(1, best[:, None, :], True)
            mask_pos = torch.where(multi, best_mask, mask_pos)
        fg = mask_pos.any(1)                                                     # [B,A]
        gt_idx = mask_pos.float().argmax(1)                                      # [B,A]
        t_labels = torch.gather(lab, 1, gt_idx)
        t_boxes = torch.gather(gt_bboxes, 1, gt_idx[..., None].expand(B, A, 4))
        t_scores = F.one_hot(t_labels, nc).float() * fg[..., None].float()
        align = align * mask_pos
        pos_align = align.amax(-1, keepdim=True)                                 # [B,M,1]
        pos_iou = (ious * mask_pos).amax(-1, keepdim=True)
        norm = (align * pos_iou / (pos_align + self.eps)).amax(1)                # [B,A]
        t_scores = t_scores * norm[..., None]
        return t_labels, t_boxes, t_scores, fg


class DetectionLoss:
    def __init__(self, nc: int = 80, reg_max: int = 16, box: float = 7.5, cls: float = 0.5, dfl: float = 1.5):
        self.nc, self.reg_max = nc, reg_max
        self.gains = (box, cls, dfl)
        self.assigner = TaskAlignedAssigner(10, nc)

    def __call__(self, outs: Heads, gt: torch.Tensor, gt_mask: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
        """gt [B, M, 5] (class, x0, y0, x1, y1 in input pixels), gt_mask [B, M] bool.
        Returns (loss averaged per image, components)."""
        R = self.reg_max
        pbox, pcls = flatten_heads(outs, R)
        pbox, pcls = pbox.float(), pcls.float()
        B, A, _ = pbox.shape
        anc, stride = make_anchors(outs)
        proj = torch.arange(R, device=pbox.device, dtype=torch.float32)
        dist = F.softmax(pbox.view(B, A, 4, R), -1) @ proj                     # [B,A,4] grid units
        pd = torch.cat([anc - dist[..., :2], anc + dist[..., 2:]], -1)          # xyxy grid units
        t_labels, t_boxes, t_scores, fg = self.assigner(
            pcls.detach().sigmoid(), (pd.detach() * stride).to(gt.dtype), anc * stride,
            gt[..., 0].long(), gt[..., 1:5], gt_mask)
        tss = t_scores.sum().clamp_min(1.0)
        l_cls = F.binary_cross_entropy_with_logits(pcls, t_scores, reduction="sum") / tss
        l_box = pcls.new_zeros(())
        l_dfl = pcls.new_zeros(())
        if bool(fg.any()):
            w = t_scores.sum(-1)[fg]                                            # [P]
            tb = t_boxes / stride[None]                                          # grid units
            iou = bbox_iou(pd[fg], tb[fg], ciou=True)
            l_box = ((1.0 - iou) * w).sum() / tss
            a = anc[None].expand(B, A, 2)[fg]
            tbf = tb[fg]
            ltrb = torch.cat([a - tbf[:, :2], tbf[:, 2:] - a], -1).clamp(0, R - 1 - 0.01)   # [P,4]
            tl = ltrb.long()
            tr = tl + 1
            wl = tr.float() - ltrb
            wr = 1.0 - wl
            logits = pbox[fg].view(-1, 4, R)
            ce_l = F.cross_entropy(logits.reshape(-1, R), tl.view(-1), reduction="none").view(-1, 4)
            ce_r = F.cross_entropy(logits.reshape(-1, R), tr.view(-1), reduction="none").view(-1, 4)
            l_dfl = ((ce_l * wl + ce_r * wr).mean(-1) * w).sum() / tss
        gb, gc, gd = self.gains
        loss = gb * l_box + gc * l_cls + gd * l_dfl
        return loss, {"gt_box": float(l_box), "gt_cls": float(l_cls), "gt_dfl": float(l_dfl)}


@torch.no_grad()
def teacher_pseudo_boxes(t_heads: Heads, conf: float = 0.25, iou: float = 0.7,
                         reg_max: int = 16) -> Tuple[torch.Tensor, torch.Tensor]:
    """The teacher's detections (decoded, class-aware NMS, as the engine's postprocess) as
    hard boxes for `DetectionLoss` on unlabeled images: gt [B, M, 5] (class, x0, y0, x1, y1 in
    input pixels), mask [B, M]. An image where the teacher finds nothing gets no boxes (all
    its anchors are background for the class loss).

    Why beside the soft distillation: the soft losses match the teacher everywhere at once,
    and near their optimum most of their gradient goes to the thousands of anchors that do
    not matter; the task-aligned assignment spends it on the few anchors that become boxes."""
    from .postprocess import Level, postprocess
    B = t_heads[0][0].shape[0]
    per_image = []
    for i in range(B):
        levels = [Level(s, b[i].float().permute(1, 2, 0).cpu().numpy(), c[i].float().permute(1, 2, 0).cpu().numpy())
                  for (b, c), s in zip(t_heads, STRIDES)]
        per_image.append(postprocess(levels, None, conf=conf, iou=iou, reg_max=reg_max))
    M = max([len(d) for d in per_image] + [1])
    dev = t_heads[0][0].device
    gt = torch.zeros(B, M, 5, device=dev)
    mask = torch.zeros(B, M, dtype=torch.bool, device=dev)
    for i, dets in enumerate(per_image):
        if dets:
            gt[i, :len(dets)] = torch.tensor([[d.class_id, d.x0, d.y0, d.x1, d.y1] for d in dets],
                                             dtype=torch.float32, device=dev)
            mask[i, :len(dets)] = True
    return gt, mask
