// The page's only work: a line of text updated 10 times a second.
let n = 0;
const count = document.getElementById("count");
const clock = document.getElementById("clock");
setInterval(() => {
  n += 1;
  count.textContent = String(n);
  clock.textContent = new Date().toISOString();
}, 100);
