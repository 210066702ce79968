import Polybridge
print("placeholder")
