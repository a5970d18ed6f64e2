"""Writes the numpy-made .npy fixtures NpyTest reads. Run from this folder: python3 make_fixtures.py"""
import numpy as np

grid = (np.arange(24, dtype=np.float32) - 11.5) / 4  # distinct, exactly representable values
np.save("f4_2x3x4.npy", grid.reshape(2, 3, 4))
np.save("f4_scalar.npy", np.float32(3.5))
np.save("f4_empty_0x3.npy", np.zeros((0, 3), dtype=np.float32))
np.save("f4_specials.npy", np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4028235e38], dtype=np.float32))
for major in (2, 3):
    with open(f"f4_v{major}_4x6.npy", "wb") as f:
        np.lib.format.write_array(f, grid.reshape(4, 6), version=(major, 0))
np.save("f4_big_endian.npy", grid.astype(">f4"))
np.save("f8.npy", grid.astype("<f8"))
np.save("i4.npy", np.arange(6, dtype="<i4"))
np.save("f4_fortran_2x3.npy", np.asfortranarray(grid[:6].reshape(2, 3)))
np.save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")]))
np.save("f2_2x3x4.npy", grid.astype(np.float16).reshape(2, 3, 4))
half_specials = np.array([np.nan, np.inf, -np.inf, -0.0, 2.0 ** -24, 65504, 1 / 3, -2.5], dtype=np.float16)
np.save("f2_specials.npy", half_specials)
np.save("f2_big_endian.npy", half_specials.astype(">f2"))
