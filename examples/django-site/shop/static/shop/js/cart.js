// Adds the prices up on the shop's page.
document.addEventListener("DOMContentLoaded", () => {
  const prices = [...document.querySelectorAll("li[data-price]")].map((li) => Number(li.dataset.price));
  const total = prices.reduce((sum, price) => sum + price, 0);
  document.getElementById("total").textContent = `Total: ${total} EUR`;
});
