"""Real robomimic 0.3.0 checkpoints for `mimic import --from robomimic`, with the actions that
robomimic's own RolloutPolicy gives for recorded observations.

Each case builds a small model through robomimic's algo_factory, trains it for a few steps on
random batches (so that no weight is at its initialization), and saves it with
TrainUtils.save_model, exactly as robomimic's train.py does (model state dict, config JSON,
shape metadata, env metadata, observation normalization statistics). Then it runs the saved
checkpoint through FileUtils.policy_from_checkpoint and records, for a short episode of
observations, the actions its RolloutPolicy returns.

GMM heads sample. Their mixture sampling is replaced here by mimic's rule with mimic's random
stream (mimic_philox.py): the mode from softmax(logits) with one uniform draw, then
mean + scale * normal. With the stream of the imported policy (its seed, offset 0) the C++ test
must reproduce every action; the mixture parameters themselves are robomimic's.

Writes tests/data/robomimic_checkpoints/<case>.pth and expected.json, plus bad_*.pth: the bc case
with a tensor removed, an unknown tensor added, a foreign global (datetime.date), an algorithm
mimic lacks and observation keys listed out of robomimic's sorted order, which the import must
refuse by name. The image case (bc_rnn_image) writes its episode's camera frames to
bc_rnn_image_frames.u8 ([step, 3, 84, 84] bytes).
"""
import json
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.distributions as D

import robomimic.utils.file_utils as FileUtils
import robomimic.utils.obs_utils as ObsUtils
import robomimic.utils.train_utils as TrainUtils
from robomimic.algo import algo_factory
from robomimic.config import config_factory

from chunk_sampling import camera_frames, sparse_frozen_encoder
from mimic_philox import MimicStream

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                   "robomimic_checkpoints")
OBS = OrderedDict([("object", 10), ("robot0_eef_pos", 3), ("robot0_eef_quat", 4),
                   ("robot0_gripper_qpos", 2)])
ACTION_DIM = 7
SEED = 3
ENV_META = {"env_name": "Lift", "type": 1,
            "env_kwargs": {"has_renderer": False, "has_offscreen_renderer": False,
                           "ignore_done": True, "use_object_obs": True, "use_camera_obs": False,
                           "control_freq": 20, "robots": ["Panda"],
                           "controller_configs": {"type": "OSC_POSE"}}}

CASES = {
    "bc": dict(),
    "bc_gmm": dict(gmm=True),
    "bc_rnn": dict(rnn=True),
    "bc_rnn_gmm": dict(rnn=True, gmm=True),
    "bc_transformer": dict(transformer=True),
    # robomimic's image policy: BC-RNN on a camera (ResNet18 with BatchNorm, spatial softmax,
    # 76x76 crops of 84x84 frames) plus the low-dim keys.
    "bc_rnn_image": dict(rnn=True, image=True),
    # BC-VAE with robomimic's N(0, 1) prior: each action decoded from a latent that the
    # rollout draws from mimic's stream.
    "bc_vae": dict(vae=True),
    # BC with robomimic's Gaussian head, which the import refuses by name.
    "bc_gaussian": dict(gaussian=True),
}
IMAGE_KEY, IMAGE, CROP = "agentview_image", 84, 76
STEPS = 7  # observations per recorded episode (more than the rnn horizon: the state resets)


def make_config(c):
    config = config_factory("bc")
    with config.values_unlocked():
        config.experiment.name = "import_fixture"
        config.train.seed = SEED
        # robomimic 0.3.0's normalize_obs cannot broadcast [1, dim] statistics over a frame
        # stack, so its BC-Transformer rollouts run without observation normalization.
        # robomimic 0.3.0's normalize_obs also needs statistics for every image key; image runs
        # (as its image templates) leave observations unnormalized.
        config.train.hdf5_normalize_obs = not c.get("transformer", False) and not c.get("image")
        config.observation.modalities.obs.low_dim = list(OBS)
        if c.get("image"):
            config.observation.modalities.obs.rgb = [IMAGE_KEY]
            rgb = config.observation.encoder.rgb
            rgb.core_kwargs.feature_dimension = 64
            rgb.core_kwargs.backbone_class = "ResNet18Conv"
            rgb.core_kwargs.backbone_kwargs.pretrained = False
            rgb.core_kwargs.backbone_kwargs.input_coord_conv = False
            rgb.core_kwargs.pool_class = "SpatialSoftmax"
            rgb.core_kwargs.pool_kwargs.num_kp = 32
            rgb.core_kwargs.pool_kwargs.learnable_temperature = False
            rgb.core_kwargs.pool_kwargs.temperature = 1.0
            rgb.core_kwargs.pool_kwargs.noise_std = 0.0
            rgb.obs_randomizer_class = "CropRandomizer"
            rgb.obs_randomizer_kwargs.crop_height = CROP
            rgb.obs_randomizer_kwargs.crop_width = CROP
            rgb.obs_randomizer_kwargs.num_crops = 1
            rgb.obs_randomizer_kwargs.pos_enc = False
        a = config.algo
        a.actor_layer_dims = [32, 24]
        a.gmm.enabled = c.get("gmm", False)
        a.gaussian.enabled = c.get("gaussian", False)
        a.gmm.num_modes = 3
        if c.get("vae"):
            a.vae.enabled = True
            a.vae.latent_dim = 4
            a.vae.encoder_layer_dims, a.vae.decoder_layer_dims = (16, 12), (12, 10)
            a.vae.prior_layer_dims = (10,)
        if c.get("rnn"):
            a.rnn.enabled = True
            a.rnn.hidden_dim = 16
            a.rnn.horizon = 4
            a.actor_layer_dims = []
            config.train.seq_length = 4
        if c.get("transformer"):
            a.transformer.enabled = True
            a.transformer.context_length = 3
            a.transformer.embed_dim = 16
            a.transformer.num_layers = 2
            a.transformer.num_heads = 2
            a.actor_layer_dims = []
            config.train.frame_stack = 3
    return config


def sample_with_mimic_stream(stream):
    """MixtureSameFamily.sample as mimic's sample_gmm draws it, row by row."""
    def sample(self, sample_shape=torch.Size()):
        assert len(sample_shape) == 0
        logits = self.mixture_distribution.logits.detach().double()
        loc = self.component_distribution.base_dist.loc.detach().double()
        scale = self.component_distribution.base_dist.scale.detach().double()
        k, a = loc.shape[-2], loc.shape[-1]
        lead = loc.shape[:-2]
        logits, loc, scale = logits.reshape(-1, k), loc.reshape(-1, k, a), scale.reshape(-1, k, a)
        out = torch.empty(loc.shape[0], a, dtype=torch.float64)
        for i in range(loc.shape[0]):
            w = torch.exp(logits[i] - logits[i].max())
            u = float(stream.uniform(1)[0]) * float(w.sum())
            mode = k - 1
            for j in range(k):
                u -= float(w[j])
                if u < 0:
                    mode = j
                    break
            z = torch.from_numpy(stream.normal(a))
            out[i] = loc[i, mode].float().double() + scale[i, mode].float().double() * z.float().double()
        return out.float().reshape(*lead, a)
    return sample


def randn_from(stream):
    """torch.randn as mimic's stream of standard normals (float32), in the order drawn."""
    def randn(*size, **kw):
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else size
        return torch.from_numpy(stream.normal(int(np.prod(shape))).astype(np.float32)).reshape(shape)
    return randn


def write_damaged_variants():
    """Checkpoints the import must refuse by name, made from the bc case."""
    import datetime
    base = torch.load(os.path.join(OUT, "bc.pth"), weights_only=False)

    def save(name, params):
        torch.save(params, os.path.join(OUT, name + ".tmp"))
        os.replace(os.path.join(OUT, name + ".tmp"), os.path.join(OUT, name))

    p = dict(base, model=OrderedDict(base["model"]))
    del p["model"]["policy.nets.decoder.nets.action.bias"]
    save("bad_missing_tensor.pth", p)
    p = dict(base, model=OrderedDict(base["model"]))
    p["model"]["policy.nets.extra.weight"] = torch.zeros(2)
    save("bad_unknown_tensor.pth", p)
    save("bad_foreign_global.pth", dict(base, saved_on=datetime.date(2026, 1, 1)))
    save("bad_algo.pth", dict(base, algo_name="bcq"))
    meta = dict(base["shape_metadata"])  # features in an order other than robomimic's sorted one
    meta["all_shapes"] = OrderedDict(reversed(list(meta["all_shapes"].items())))
    save("bad_unsorted_keys.pth", dict(base, shape_metadata=meta))


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    gen = torch.Generator().manual_seed(0)
    for name, c in CASES.items():
        torch.manual_seed(1)
        config = make_config(c)
        ObsUtils.initialize_obs_utils_with_config(config)
        shapes = OrderedDict((k, [d]) for k, d in OBS.items())
        if c.get("image"):
            shapes[IMAGE_KEY] = [3, IMAGE, IMAGE]
        # robomimic's train.py lists the keys sorted (config.all_obs_keys), and its encoder
        # concatenates features in this order.
        shapes = OrderedDict(sorted(shapes.items()))
        shape_meta = {"ac_dim": ACTION_DIM, "all_shapes": shapes, "all_obs_keys": list(shapes),
                      "use_images": bool(c.get("image"))}
        algo = algo_factory("bc", config, shape_meta["all_shapes"], ACTION_DIM, torch.device("cpu"))
        if c.get("image"):  # sparse convolutions, so the fixture stays small (chunk_sampling.py)
            sparse_frozen_encoder(algo.nets["policy"].nets["encoder"].nets["obs"].obs_nets[IMAGE_KEY])
        window = max(config.train.seq_length, config.train.frame_stack)
        for step in range(3):
            obs = {k: torch.rand(8, window, d, generator=gen) * 2 - 1 for k, d in OBS.items()}
            if c.get("image"):  # frames as robomimic's dataset hands them: CHW, bytes / 255
                obs[IMAGE_KEY] = camera_frames(8, window, size=IMAGE)
            actions = torch.rand(8, window, ACTION_DIM, generator=gen) * 1.8 - 0.9
            batch = algo.process_batch_for_training({"obs": obs, "actions": actions})
            algo.set_train()
            algo.train_on_batch(batch, epoch=1)
        if c.get("image"):  # running statistics away from their start, to expose any mix-up
            with torch.no_grad():
                for bname, buf in algo.nets["policy"].named_buffers():
                    if bname.endswith("running_mean"):
                        buf.copy_(torch.randn(buf.shape) * 0.1)
                    elif bname.endswith("running_var"):
                        buf.copy_(torch.rand(buf.shape) + 0.5)
        stats = None if c.get("transformer") or c.get("image") else {k: {"mean": (torch.rand(1, d, generator=gen) * 0.4 - 0.2).numpy(),
                     "std": (torch.rand(1, d, generator=gen) * 0.5 + 0.5).numpy()} for k, d in OBS.items()}
        path = os.path.join(OUT, name + ".pth")
        TrainUtils.save_model(algo, config, ENV_META, shape_meta, path + ".tmp", obs_normalization_stats=stats)
        os.replace(path + ".tmp", path)

        # Run the saved file as robomimic's run_trained_agent.py does.
        policy, _ = FileUtils.policy_from_checkpoint(ckpt_path=path, device=torch.device("cpu"))
        policy.start_episode()
        stream = MimicStream(SEED)
        original_sample, original_randn = D.MixtureSameFamily.sample, torch.randn
        D.MixtureSameFamily.sample = sample_with_mimic_stream(stream)
        if c.get("vae"):  # the prior's latents: N(0, 1) from mimic's stream
            torch.randn = randn_from(stream)
        try:
            episode, frames = [], []
            for t in range(STEPS):
                shape = (config.train.frame_stack, ) if c.get("transformer") else ()
                ob = {k: (torch.rand(*shape, d, generator=gen) * 2 - 1).numpy() for k, d in OBS.items()}
                raw = {k: v.tolist() for k, v in ob.items()}  # RolloutPolicy normalizes `ob` in place
                if c.get("image"):  # as robomimic's env wrapper processes them: CHW, [0, 1]
                    frame = camera_frames(size=IMAGE)
                    frames.append((frame * 255).round().to(torch.uint8).numpy())
                    ob[IMAGE_KEY] = frame.numpy()
                ac = policy(ob)
                episode.append({"obs": raw, "action": ac.tolist()})
        finally:
            D.MixtureSameFamily.sample, torch.randn = original_sample, original_randn
        if frames:  # the episode's frames, [step, 3, H, W] bytes
            with open(os.path.join(OUT, name + "_frames.u8"), "wb") as f:
                f.write(np.stack(frames).tobytes())
        expected[name] = {"episode": episode, "frame_stack": config.train.frame_stack,
                          "weights": len(algo.serialize())}
        if frames:
            expected[name]["image_key"] = IMAGE_KEY
    write_damaged_variants()
    with open(os.path.join(OUT, "expected.json.tmp"), "w") as f:
        json.dump({"seed": SEED, "cases": expected}, f, indent=1)
    os.replace(os.path.join(OUT, "expected.json.tmp"), os.path.join(OUT, "expected.json"))


if __name__ == "__main__":
    main()
