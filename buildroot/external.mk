include $(sort $(wildcard $(BR2_EXTERNAL_TINKERBOX_PATH)/package/*/*.mk))
