"""The chat page in a real headless Chromium: attach an image, ask, watch the answer stream in;
it must be the API's greedy answer. A screenshot lands in the output folder."""
import os
import shutil
import unittest

import openai
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from served import OUT, Server, questions, user_message


class ChatPage(unittest.TestCase):
    def test_an_image_question_streams_its_answer_into_the_page(self):
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        driver_path = shutil.which("chromedriver")
        if not browser or not driver_path:
            self.skipTest("chromium and chromium-driver are not installed (scripts/install_deps.sh installs them)")
        server = Server("chat_page")
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,900", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            image, text = questions(1)[0]
            client = openai.OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0)
            expected = client.chat.completions.create(model=server.model_id, messages=[user_message(image, text)],
                                                      temperature=0).choices[0].message.content
            driver.get(server.url + "/")
            WebDriverWait(driver, 30).until(expected_conditions.text_to_be_present_in_element((By.ID, "model"), "model:"))
            driver.find_element(By.ID, "image").send_keys(os.path.abspath(image))
            WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "preview").is_displayed())
            driver.find_element(By.ID, "prompt").send_keys(text)
            driver.find_element(By.ID, "send").click()
            done = WebDriverWait(driver, 120).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".assistant.done .text")))
            self.assertEqual(done.text.strip(), expected.strip())
            self.assertTrue(driver.find_elements(By.CSS_SELECTOR, ".user img"), "the attached image is not shown")
            self.assertIn("answer tokens", driver.find_element(By.ID, "status").text)
            shot = os.path.join(OUT, "chat_page.png")
            driver.save_screenshot(shot)
            self.assertGreater(os.path.getsize(shot), 10000)
        finally:
            driver.quit()
            server.stop()


if __name__ == "__main__":
    unittest.main()
