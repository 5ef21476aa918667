#!/usr/bin/env bash
# Rebuilds the shipped prompts (8 kHz mono 16-bit WAV, what rtpengine's `play media` reads) with espeak-ng and sox.
# A site records its own safe-harbor message (it must name the caller and a number to call back: README "Prompts").
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
espeak-ng -s 150 -w "$tmp/sh.wav" "We are sorry. All of our agents are busy right now. We will call you back. Thank you, goodbye."
sox -D "$tmp/sh.wav" -r 8000 -c 1 -b 16 safe-harbor.wav
# the inbound IVR's example menu and the prompt a caller hears when the queue's maximum wait is over
espeak-ng -s 150 -w "$tmp/menu.wav" "Welcome. For sales, press 1. For service, press 2."
sox -D "$tmp/menu.wav" -r 8000 -c 1 -b 16 ivr-menu.wav
espeak-ng -s 150 -w "$tmp/over.wav" "All of our agents are still busy. We will call you back as soon as we can. Goodbye."
sox -D "$tmp/over.wav" -r 8000 -c 1 -b 16 queue-overflow.wav
# a queued caller's position: "you are caller number" and the number, one to nine
espeak-ng -s 150 -w "$tmp/pos.wav" "You are caller number"
sox -D "$tmp/pos.wav" -r 8000 -c 1 -b 16 queue-position.wav
n=1
for word in one two three four five six seven eight nine; do
  espeak-ng -s 150 -w "$tmp/n.wav" "$word"
  sox -D "$tmp/n.wav" -r 8000 -c 1 -b 16 "number-$n.wav"
  n=$((n + 1))
done
# the voicemail greeting of a number that takes messages, ending with the tone
espeak-ng -s 150 -w "$tmp/vm.wav" "Please leave your name and number after the tone, and press the hash key when you are done."
sox -D "$tmp/vm.wav" -r 8000 -c 1 -b 16 "$tmp/vm8.wav"
sox -D -n -r 8000 -c 1 -b 16 "$tmp/gap.wav" trim 0 0.3
sox -D -n -r 8000 -c 1 -b 16 "$tmp/tone.wav" synth 0.4 sine 1000 vol 0.5
sox -D "$tmp/vm8.wav" "$tmp/gap.wav" "$tmp/tone.wav" voicemail.wav
# a short loopable tune for callers on hold: four notes and a rest
sox -D -n -r 8000 -c 1 -b 16 hold-music.wav synth 0.45 sine 523.25 : synth 0.45 sine 659.25 : \
  synth 0.45 sine 783.99 : synth 0.45 sine 659.25 : synth 0.6 sine 0 vol 0.3
rm -rf "$tmp"
