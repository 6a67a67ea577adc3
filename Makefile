# hpd3d: `make demo` runs the main job on the toolkit's own data, `make test` the tests.
# Both set everything up first (tools/setup.sh: a quick no-op when already done).
PY := .venv/bin/python
DEMO_OUT ?= out/demo

.PHONY: setup demo test test-slow bench clean addon

setup:
	@bash tools/setup.sh

# The main job on the toolkit's own data: procedural motion -> augmented multi-camera
# dataset -> a SimpleBaseline3D trained briefly -> evaluation (metrics table + plots), and
# the same model on the real BVH motions in ../shared/data/bvh when they are there; then a
# walk from the motion library rendered by Blender (the anny human body) goes through
# infer: MediaPipe on the rendered video, and the rendered ground-truth 2D (detector=file).
SHARED_BVH ?= ../shared/data/bvh
demo: setup
	$(PY) -m synth.make_motions out=$(DEMO_OUT)/motions clips=40 bvh=true overwrite=true
	$(PY) -m synth.augment_h36m out=$(DEMO_OUT)/data procedural.clips=120 overwrite=true
	$(PY) -m train exp=simplebaseline model=simplebaseline_small data=demo overwrite=true \
	    data.dir=$(DEMO_OUT)/data trainer.max_epochs=6 threads=1 work_dir=$(DEMO_OUT)/train
	$(PY) -m train.evaluate checkpoint=$(DEMO_OUT)/train/last.pt data=demo \
	    data.dir=$(DEMO_OUT)/data out=$(DEMO_OUT)/eval_procedural overwrite=true
	@if [ -d $(SHARED_BVH) ]; then \
	  $(PY) -m synth.augment_h36m input=$(SHARED_BVH) knee=none joints=none body=none \
	      out=$(DEMO_OUT)/data_bvh plots=false overwrite=true && \
	  $(PY) -m train.evaluate checkpoint=$(DEMO_OUT)/train/last.pt data=bvh_real \
	      data.dir=$(DEMO_OUT)/data_bvh out=$(DEMO_OUT)/eval_bvh overwrite=true; fi
	$(PY) -m blender.render input=$(DEMO_OUT)/motions/bvh_procedural/P000_walk_0.bvh \
	    out=$(DEMO_OUT)/render render.enabled=true render.subject=anny camera.count=1 overwrite=true \
	    'camera.resolutions=[[480,360]]' fps=30 max_frames=120
	$(PY) -m infer video=$(DEMO_OUT)/render/video/P000-walk-0/mocap/0.mp4 out=$(DEMO_OUT)/infer name=walk \
	    camera.focal_px=$$(awk '!/^#/ {print $$5; exit}' $(DEMO_OUT)/render/camera_intrinsics.txt)
	$(PY) -m infer detector=file detector.path=$(DEMO_OUT)/render/data_2d_blender_gt.npz \
	    video=$(DEMO_OUT)/render/video/P000-walk-0/mocap/0.mp4 \
	    out=$(DEMO_OUT)/infer_gt2d name=walk_gt2d \
	    camera.focal_px=$$(awk '!/^#/ {print $$5; exit}' $(DEMO_OUT)/render/camera_intrinsics.txt)
	@echo "demo: everything is in $(DEMO_OUT)/ (data, train, eval_procedural, eval_bvh, render, infer, infer_gt2d)"

test: setup
	$(PY) -m pytest

test-slow: setup
	$(PY) -m pytest -m slow

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# The Blender add-on (File > Import > 3D pose keypoints): blender/addon + import_skeleton + hpd3d
addon:
	$(PY) tools/build_addon.py out/hpd3d_pose_import.zip

clean:
	rm -rf out outputs multirun .pytest_cache
