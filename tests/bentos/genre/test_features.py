"""Log-mel features and the network: shapes, coverage of the whole song, invariances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bentos.genre.features import FeatureConfig, LogMel, cut_windows, window_features, window_starts
from bentos.genre.network import NetworkConfig, build_network, count_parameters

CONFIG = FeatureConfig()


def test_windows_cover_the_whole_signal() -> None:
    assert window_starts(100, 30, 30) == [0, 30, 60, 70]  # last window aligned to the end
    assert window_starts(90, 30, 30) == [0, 30, 60]
    assert window_starts(20, 30, 30) == [0]
    for n in (31, 99, 1000):
        starts = window_starts(n, 30, 10)
        assert starts[0] == 0 and starts[-1] + 30 == n


def test_short_audio_is_repeated_to_one_window() -> None:
    samples = np.arange(10, dtype=np.float32)[None, :]
    windows = cut_windows(samples, window=25, hop=25)
    assert windows.shape == (1, 1, 25)
    np.testing.assert_array_equal(windows[0, 0, :12], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])


def test_feature_shape_for_a_song() -> None:
    seconds = 23.0
    samples = np.random.default_rng(0).standard_normal((1, int(seconds * 22050))).astype(np.float32)
    features = window_features(samples, CONFIG)
    assert features.shape == (5, 1, CONFIG.n_mels, CONFIG.frames_per_window)  # 0,5,10,15,18 s
    assert features.dtype == np.float32
    assert features.min() >= -1.0 and features.max() == pytest.approx(1.0)


def test_stereo_features_have_two_channels() -> None:
    config = FeatureConfig(channels=2)
    samples = np.random.default_rng(0).standard_normal((2, 22050 * 6)).astype(np.float32)
    assert window_features(samples, config).shape[1] == 2


def test_features_ignore_loudness() -> None:
    samples = np.random.default_rng(1).standard_normal((1, 22050 * 5)).astype(np.float32)
    np.testing.assert_allclose(
        window_features(samples, CONFIG), window_features(0.05 * samples, CONFIG), atol=1e-4
    )


def test_a_tone_lights_up_its_mel_band() -> None:
    t = np.arange(22050 * 5) / 22050
    low = window_features(np.sin(2 * np.pi * 200 * t)[None].astype(np.float32), CONFIG)
    high = window_features(np.sin(2 * np.pi * 4000 * t)[None].astype(np.float32), CONFIG)
    low_band = int(low[0, 0].mean(axis=1).argmax())
    high_band = int(high[0, 0].mean(axis=1).argmax())
    assert low_band < CONFIG.n_mels // 3 < high_band


def test_feature_config_rejects_impossible_bands() -> None:
    with pytest.raises(ValueError, match="f_max"):
        FeatureConfig(sample_rate=16000, f_max=12000)


def test_baseline_network_is_the_seed_five_block_cnn() -> None:
    network = build_network(1, 11, NetworkConfig())
    assert 95_000 < count_parameters(network) < 105_000
    convs = [m for m in network.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 128]
    batch = torch.from_numpy(np.zeros((3, 1, CONFIG.n_mels, CONFIG.frames_per_window), "f4"))
    assert network.eval()(batch).shape == (3, 11)


def test_architecture_is_a_parameter() -> None:
    small = build_network(2, 11, NetworkConfig(widths=(4, 8, 16), dropout=0.5))
    assert len([m for m in small.modules() if isinstance(m, torch.nn.Conv2d)]) == 3
    with pytest.raises(ValueError, match="unknown architecture"):
        build_network(1, 11, NetworkConfig(architecture="transformer"))


def test_logmel_is_a_batchable_module() -> None:
    waves = torch.randn(4, 1, CONFIG.window_samples)
    out = LogMel(CONFIG)(waves)
    assert out.shape == (4, 1, CONFIG.n_mels, CONFIG.frames_per_window)


def test_silent_windows_are_not_analysed() -> None:
    rng = np.random.default_rng(2)
    music = 0.3 * rng.standard_normal((1, 22050 * 10)).astype(np.float32)
    silence = np.zeros((1, 22050 * 10), np.float32)
    song = np.concatenate([silence, music, 1e-5 * music], axis=1)  # intro, song, fade
    assert len(window_features(song, CONFIG)) == 2
    assert len(window_features(silence, CONFIG)) == 1  # all silent: still one answer
