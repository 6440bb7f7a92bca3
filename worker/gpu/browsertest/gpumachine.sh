#!/bin/bash
# The GPU machine's side of the browser benchmark (worker/gpu/BENCH.md, "In Chromium on the GPU
# machine"): our engine in Chromium on WebGPU, the peer wllama in the same browser, and native
# gpubench, on SmolLM2-135M Q8_0 and Qwen2.5-0.5B Q4_K shapes, 256 tokens after a 128-token prompt.
# Copy it to .gpu/run.sh (ignored) and carry it with the parts, from the repository root:
#   .gpu/p1: extra.tar.xz.00 (extra/: browsertest.test, gpubench, site/, wllama/ with esm/ and
#            package.json, bt/testdata/ of this package) and cr.tar.xz.00, the first part of
#            cr.tar.xz (cr/: the browser with lib/, as BENCH.md lists); .gpu/p2.. the other parts
#   call 1: carry .gl .gpu/run.sh .gpu/p1   bash .gpu/run.sh native
#   call k: carry .gpu/run.sh .gpu/pk       bash .gpu/run.sh part
#   last:   carry .gl .gpu/run.sh .gpu/pN   bash .gpu/run.sh MODE
# back to back (the machine stays warm 30 s after a call). MODE: all [smol]: ours and wllama on
# both shapes (or SmolLM2 only); warm: ours alone on both shapes, twice (the JSON's
# gpuTokPerSAhead has the warm decodes by steps in flight); tog: ours on SmolLM2 with Dawn toggles
# (skip_validation, disable_robustness, disable_workgroup_init). While the machine is warm, more
# calls with any MODE need no parts. Everything it prints goes to $OUT/run.log; the JSON to
# $OUT/{native-,}{smol,qwen,tog-*}.json, Chromium's log to $OUT/chrome-*.log.
# vec4s: native gpubench only, decode matrix-vector invocations sized for 4 (the default), 8 and
# 16 vec4s (-vec4s), alternated twice on both shapes, then a kernel profile of each on Qwen; one
# call carrying .gl, .gpu/run.sh and a gpubench built from this tree as .gpu/pv/gpubench (no
# browser parts), JSON to $OUT/v{0,8,16}-{smol,qwen}-{1,2}.json.
mode=$1
exec > >(tee -a $OUT/run.log) 2>&1
date -u; echo "mode $mode"; df -h /root /tmp | tail -2
mkdir -p /root/p
for d in .gpu/p*; do [ -d "$d" ] && cp -v $d/* /root/p/; done
ls -la /root/p
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
native() {
  nvidia-smi --query-gpu=name,driver_version --format=csv
  /root/extra/gpubench -shape smollm2-135m -type Q8_0 -arch llama -vocab worker/testdata/vocab/ggml-vocab-gpt-2.gguf -p 128 -n 256 -ctx 2048 -reps 3 -keep -profile -json $OUT/native-smol.json
  /root/extra/gpubench -shape qwen2.5-0.5b -type Q4_K -arch qwen2 -vocab worker/testdata/vocab/ggml-vocab-qwen2.gguf -p 128 -n 256 -ctx 2048 -reps 3 -keep -profile -json $OUT/native-qwen.json
  ls -la /tmp/gpubench-*.gguf
}
extra() { [ -x /root/extra/gpubench ] || (cd /root && cat /root/p/extra.tar.xz.* | tar -xJ) ; ls -la /root/extra; }
vec4s() {
  B=/root/p/gpubench; chmod +x $B
  nvidia-smi --query-gpu=name,driver_version --format=csv
  $B -shape smollm2-135m -type Q8_0 -arch llama -vocab worker/testdata/vocab/ggml-vocab-gpt-2.gguf -p 32 -n 32 -reps 1 -keep -cpu | grep -v "^adapter"
  $B -shape qwen2.5-0.5b -type Q4_K -arch qwen2 -vocab worker/testdata/vocab/ggml-vocab-qwen2.gguf -p 32 -n 32 -reps 1 -keep -cpu | grep -v "^adapter"
  for round in 1 2; do
    for v in 0 8 16; do
      for m in smol:llama-smollm2-135m-Q8_0 qwen:qwen2-qwen2.5-0.5b-Q4_K; do
        echo "=== vec4s $v ${m%%:*} round $round"
        $B -m /tmp/gpubench-${m#*:}.gguf -p 128 -n 256 -ctx 2048 -reps 3 -vec4s $v -json $OUT/v$v-${m%%:*}-$round.json | grep -v "^adapter\|^model"
      done
    done
  done
  for v in 0 8 16; do
    echo "=== profile vec4s $v qwen"
    $B -m /tmp/gpubench-qwen2-qwen2.5-0.5b-Q4_K.gguf -p 128 -n 128 -ctx 2048 -reps 1 -profile -vec4s $v | tail -12
  done
}
case $mode in
part) exit 0 ;;
native) extra && native; exit 0 ;;
vec4s) vec4s; exit 0 ;;
esac
date -u
extra
(cd /root && cat /root/p/cr.tar.xz.* | tar -xJ) || { echo "browser unpack failed"; exit 1; }
ls -la /root/cr | head; du -sh /root/cr
export LD_LIBRARY_PATH=/root/cr/lib:/root/cr
ldd /root/cr/chromium-headless-shell | grep "not found"
/root/cr/chromium-headless-shell --version
unset LD_LIBRARY_PATH
ls /tmp/gpubench-llama-smollm2-135m-Q8_0.gguf /tmp/gpubench-qwen2-qwen2.5-0.5b-Q4_K.gguf || native
mkdir -p /root/bt && cp -r /root/extra/bt/testdata /root/bt/
cd /root/bt
run() { # name model [extra dawn toggles] [nowl]
  date -u; echo "=== browser test $1 toggles=$3 $4"
  WL=/root/extra/wllama/esm; [ "$4" = nowl ] && WL=
  LD_LIBRARY_PATH=/root/cr/lib:/root/cr \
  AISLE_CHROMIUM=/root/cr/chromium-headless-shell AISLE_WASM_SITE=/root/extra/site \
  AISLE_CHROMIUM_FLAGS="--enable-features=Vulkan --use-angle=vulkan --disable-vulkan-surface --enable-dawn-features=vulkan_enable_f16_on_nvidia$3" \
  AISLE_GPU_MODEL=$2 AISLE_GPU_TOKENS=256 AISLE_GPU_PROMPT=128 AISLE_GPU_CPU=0 \
  AISLE_GPU_JSON=$OUT/$1.json AISLE_CHROMIUM_LOG=/tmp/chrome-$1.log \
  AISLE_WLLAMA_DIR=$WL AISLE_WLLAMA_TIMEOUT=90 \
  timeout -k 10 ${TMO:-280} /root/extra/browsertest.test -test.v -test.timeout 275s
  echo "rc $?"
  [ "$mode" = tog -o "$mode" = warm ] || tail -c 6000000 /tmp/chrome-$1.log > $OUT/chrome-$1.log
  date -u
}
if [ "$mode" = tog ]; then
  TMO=100
  for t in skip_validation disable_robustness disable_workgroup_init skip_validation,disable_robustness,disable_workgroup_init; do
    run tog-${t%%,*}$( [ "$t" = "${t%%,*}" ] || echo -all) /tmp/gpubench-llama-smollm2-135m-Q8_0.gguf ,$t nowl
  done
  run tog-base /tmp/gpubench-llama-smollm2-135m-Q8_0.gguf "" nowl
  exit 0
fi
if [ "$mode" = warm ]; then
  for rnd in 1 2; do
    run smol$rnd /tmp/gpubench-llama-smollm2-135m-Q8_0.gguf "" nowl
    run qwen$rnd /tmp/gpubench-qwen2-qwen2.5-0.5b-Q4_K.gguf "" nowl
  done
  exit 0
fi
run smol /tmp/gpubench-llama-smollm2-135m-Q8_0.gguf
[ "$2" = smol ] || run qwen /tmp/gpubench-qwen2-qwen2.5-0.5b-Q4_K.gguf
